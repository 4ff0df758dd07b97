//! The registry of stable diagnostic codes, ranged by stage:
//! `DPC00xx` load, `DPC01xx` resolve, `DPC02xx` sql, `DPC03xx` check,
//! `DPC035x` contract. Each code has an explanation in `docs/codes/` that
//! `dpc explain` prints; a test checks that each also has a golden case.

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(pub &'static str);

/// A code is written as its text and read back only as a code of the registry.
impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Code, D::Error> {
        let text = <&str>::deserialize(deserializer)?;
        lookup(text).map(|info| Code(info.code)).ok_or_else(|| serde::de::Error::custom(format!("unknown code {text}")))
    }
}

pub struct CodeInfo {
    pub code: &'static str,
    pub title: &'static str,
    pub explanation: &'static str,
}

macro_rules! codes {
    ($($name:ident = $code:literal, $title:literal;)*) => {
        $(pub const $name: Code = Code($code);)*
        /// Every code, in order.
        pub const ALL: &[CodeInfo] = &[$(CodeInfo {
            code: $code,
            title: $title,
            explanation: include_str!(concat!("../../docs/codes/", $code, ".md")),
        }),*];
    };
}

codes! {
    TOML_SYNTAX = "DPC0001", "TOML syntax error";
    UNKNOWN_KEY = "DPC0002", "unknown key in a definition";
    INVALID_VALUE = "DPC0003", "a key has a value of the wrong type, or a required key is missing";
    UNKNOWN_VARIANT = "DPC0004", "a key has a value that is not one of the allowed ones";
    INVALID_NAME = "DPC0005", "invalid name";
    MISSING_QUERY_FILE = "DPC0006", "the query file of an output port does not exist";
    DUPLICATE_PRODUCT = "DPC0007", "two products have the same id";
    INVALID_TYPE = "DPC0008", "a column type is not a valid type of the target";
    MISSING_TARGET = "DPC0009", "the product's target is not configured in dpc.toml";
    INVALID_SETTING = "DPC0010", "invalid target setting in dpc.toml";
    INVALID_DURATION = "DPC0011", "invalid duration or schedule";
    DUPLICATE_COLUMN = "DPC0012", "a column is declared twice";
    MISSING_KEY = "DPC0013", "a key that this kind of input or materialization needs is missing";
    UNKNOWN_DECLARED_COLUMN = "DPC0014", "a key, partition or cluster column is not a declared column";
    NO_OUTPUTS = "DPC0015", "a product has no output port";
    // DPC0016 (a target not implemented yet) is retired, never reused.
    NOT_UTF8 = "DPC0017", "a file is not UTF-8 text";
    DUPLICATE_PORT = "DPC0018", "a port version is published twice";
    UNSUPPORTED_SETTING = "DPC0019", "a setting the product's target has no use for";
    UNKNOWN_PRODUCT = "DPC0101", "an input names a product that does not exist";
    UNKNOWN_PORT = "DPC0102", "an input names an output port that the product does not have";
    UNKNOWN_VERSION = "DPC0103", "an input pins a version that the port does not publish";
    ACCESS_DENIED = "DPC0104", "the port does not allow this product as a consumer";
    CYCLE = "DPC0105", "products depend on each other in a cycle";
    CROSS_TARGET = "DPC0106", "an input comes from a product of another target";
    UPSTREAM_BROKEN = "DPC0107", "a product is not checked because an input's schema is unknown";
    FRESHNESS_UNREACHABLE = "DPC0108", "a port promises a freshness its schedule or inputs cannot deliver";
    SCHEDULE_CONFLICT = "DPC0109", "the ports of one product ask for different schedules";
    SQL_SYNTAX = "DPC0201", "SQL syntax error";
    NOT_A_QUERY = "DPC0202", "the query file does not hold exactly one query";
    UNSUPPORTED_SYNTAX = "DPC0203", "SQL that the parser misreads or the target does not have";
    UNKNOWN_TABLE = "DPC0301", "unknown table";
    UNKNOWN_COLUMN = "DPC0302", "unknown column";
    AMBIGUOUS_COLUMN = "DPC0303", "ambiguous column";
    TYPE_MISMATCH = "DPC0304", "operands of incompatible types";
    NOT_GROUPED = "DPC0305", "a column is neither grouped nor aggregated";
    AGGREGATE_NOT_ALLOWED = "DPC0306", "an aggregate function where none is allowed";
    WINDOW_NOT_ALLOWED = "DPC0307", "a window function where none is allowed";
    UNKNOWN_FUNCTION = "DPC0308", "a function that the catalog does not know";
    NO_MATCHING_SIGNATURE = "DPC0309", "no signature of the function accepts these arguments";
    WRONG_ARGUMENT_COUNT = "DPC0310", "a function is called with the wrong number of arguments";
    UNNAMED_COLUMN = "DPC0311", "an output column has no name";
    DUPLICATE_OUTPUT_COLUMN = "DPC0312", "two output columns have the same name";
    SET_OPERATION_MISMATCH = "DPC0313", "the branches of a set operation do not match";
    COLUMN_LIST_ALIAS = "DPC0314", "a column list on a table alias";
    SUBQUERY_SHAPE = "DPC0315", "a subquery returns the wrong number of columns";
    UNKNOWN_FIELD = "DPC0316", "a STRUCT has no such field";
    INVALID_CAST = "DPC0317", "a value cannot be cast to that type";
    EXPECTED_BOOL = "DPC0318", "a condition is not BOOL";
    NOT_CHECKED = "DPC0319", "SQL that the checker cannot type yet";
    WINDOW_REQUIRED = "DPC0320", "an analytic function without OVER";
    DUPLICATE_ALIAS = "DPC0321", "two tables in one FROM have the same alias";
    FOREIGN_FUNCTION = "DPC0322", "a function of another target's SQL dialect";
    CONTRACT_MISSING_COLUMN = "DPC0350", "a declared column is not produced by the query";
    CONTRACT_EXTRA_COLUMN = "DPC0351", "the query produces a column that is not declared";
    CONTRACT_COLUMN_ORDER = "DPC0352", "the query produces the declared columns in another order";
    CONTRACT_TYPE = "DPC0353", "the query's column type cannot be stored in the declared type";
    CONTRACT_NULLABLE = "DPC0354", "a required column may be NULL";
    CONTRACT_PRECISION = "DPC0355", "a column loses precision when stored";
    NO_CONTRACT = "DPC0356", "an output port declares no columns";
    CLASSIFICATION_UNDECLARED = "DPC0401", "a column carries a classification it does not declare";
    CLASSIFICATION_CEILING = "DPC0402", "a product holds a classification above its ceiling";
    UNKNOWN_CLASSIFICATION = "DPC0403", "a classification label the mesh does not define";
    BREAKING_CHANGE = "DPC0501", "a breaking change to a published port version";
    NEEDS_BACKFILL = "DPC0502", "a change that alters a port's rows or values";
    SUNSET_PENDING = "DPC0503", "a consumer still reads a version that is being retired";
    INTERNAL = "DPC0901", "an internal error in dpc";
}

pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    let code = code.trim().to_ascii_uppercase();
    ALL.iter().find(|c| c.code == code)
}
