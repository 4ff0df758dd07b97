-- `contact` carries the e-mail from two products upstream.
SELECT customer_id, contact, TO_HEX(SHA256(contact)) AS contact_key
FROM contacts
