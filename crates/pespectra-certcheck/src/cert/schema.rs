//! The certificate as JSON says it (serde types), before any of it is trusted.

use std::collections::BTreeMap;

use serde::Deserialize;

use std::fmt;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCert {
    pub(super) format: String,
    pub(super) id: String,
    pub(super) statement: String,
    pub(super) verdict: String,
    /// Free text for human readers (provenance, how numbers were derived).
    #[serde(default)]
    #[allow(dead_code)]
    pub(super) notes: Option<String>,
    #[serde(deserialize_with = "unique_keys")]
    pub(super) matrices: BTreeMap<String, RawMatrix>,
    #[serde(default)]
    pub(super) derived: Vec<RawDerived>,
    pub(super) claims: Vec<RawClaim>,
    pub(super) conclusion: RawConclusion,
}

/// Deserialize a JSON object into a map, rejecting duplicate keys. JSON
/// readers disagree on which duplicate wins; a certificate whose meaning
/// depends on that must not be accepted.
pub(super) fn unique_keys<'de, D>(de: D) -> Result<BTreeMap<String, RawMatrix>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = BTreeMap<String, RawMatrix>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of matrices")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((k, v)) = map.next_entry::<String, RawMatrix>()? {
                if out.contains_key(&k) {
                    return Err(serde::de::Error::custom(format!(
                        "duplicate matrix name {k:?}"
                    )));
                }
                out.insert(k, v);
            }
            Ok(out)
        }
    }
    de.deserialize_map(V)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMatrix {
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) re: Vec<String>,
    #[serde(default)]
    pub(super) im: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDerived {
    pub(super) name: String,
    pub(super) op: String,
    pub(super) args: Vec<String>,
    #[serde(default)]
    pub(super) scalar: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum RawClaim {
    Hermitian {
        matrix: String,
    },
    UnitDiagonal {
        matrix: String,
    },
    DiagonalBounds {
        matrix: String,
        lo: String,
        hi: String,
    },
    Psd {
        matrix: String,
    },
    Pd {
        matrix: String,
    },
    Eigenvalue {
        matrix: String,
        index: usize,
        lo: String,
        hi: String,
    },
    Inertia {
        matrix: String,
        shift: String,
        neg: usize,
        zero: usize,
        pos: usize,
    },
    Trace {
        matrix: String,
        value: String,
        #[serde(default)]
        im: Option<String>,
    },
    Entry {
        matrix: String,
        row: usize,
        col: usize,
        re: String,
        #[serde(default)]
        im: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConclusion {
    pub(super) lhs: RawBound,
    pub(super) rel: String,
    pub(super) rhs: RawBound,
    pub(super) margin: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClaimRef {
    pub(super) claim: usize,
    pub(super) end: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ValueRef {
    pub(super) value: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawBound {
    Claim(ClaimRef),
    Value(ValueRef),
}

// ----------------------------------------------------------- resolved claims
