//! A JSON Schema validator for the subset of keywords Apple's document uses (`type`,
//! `properties`, `required`, `enum`, `items`, `$ref`, `nullable`, `oneOf`, `format`,
//! `additionalProperties`, `title`, `discriminator`). A keyword outside that subset makes
//! [`Schemas::load`] fail, so no rule of the document is silently skipped.
//!
//! Objects are closed: a property the schema does not name is refused, as App Store
//! Connect refuses an unknown attribute (`ENTITY_ERROR.ATTRIBUTE.UNKNOWN`), so a
//! misspelt field cannot pass.

use serde_json::{Map, Value};

const KNOWN: &[&str] = &[
    "type",
    "properties",
    "required",
    "enum",
    "items",
    "$ref",
    "nullable",
    "oneOf",
    "format",
    "additionalProperties",
    "title",
    "discriminator",
    "deprecated",
    "description",
    "example",
];

/// The document's `components.schemas`.
#[derive(Debug)]
pub struct Schemas {
    schemas: Map<String, Value>,
}

impl Schemas {
    /// Reads the document and checks every schema uses only known keywords.
    pub fn load(document: &Value) -> Result<Schemas, String> {
        let schemas = document["components"]["schemas"]
            .as_object()
            .ok_or("no components.schemas")?
            .clone();
        for (name, s) in &schemas {
            check_keywords(s, name)?;
        }
        Ok(Schemas { schemas })
    }

    /// Validates `value` against the named schema; every violation, with its JSON pointer.
    pub fn validate(&self, name: &str, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        match self.schemas.get(name) {
            Some(s) => self.check(s, value, "", &mut errors),
            None => errors.push(format!("no schema {name}")),
        }
        errors
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix("#/components/schemas/")
                .and_then(|n| self.schemas.get(n))
                .unwrap_or(&Value::Null),
            None => schema,
        }
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if schema.is_null() {
            errors.push(format!("{at}: unresolved $ref"));
            return;
        }
        if value.is_null() && schema.get("nullable") == Some(&Value::Bool(true)) {
            return;
        }
        if let Some(alternatives) = schema.get("oneOf").and_then(Value::as_array) {
            let matching = alternatives
                .iter()
                .filter(|alt| {
                    let mut e = Vec::new();
                    self.check(alt, value, at, &mut e);
                    e.is_empty()
                })
                .count();
            if matching != 1 {
                errors.push(format!(
                    "{at}: matches {matching} of the oneOf alternatives, not exactly one"
                ));
            }
            return;
        }
        if let Some(ty) = schema.get("type").and_then(Value::as_str) {
            let ok = match ty {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                _ => false,
            };
            if !ok {
                errors.push(format!("{at}: not of type {ty}"));
                return;
            }
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            errors.push(format!(
                "{at}: {value} is not one of {}",
                Value::from(allowed.clone())
            ));
        }
        if let (Some("date-time"), Some(s)) =
            (schema.get("format").and_then(Value::as_str), value.as_str())
            && time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .is_err()
        {
            errors.push(format!("{at}: not an RFC 3339 date-time"));
        }
        if let Some(obj) = value.as_object() {
            let props = schema.get("properties").and_then(Value::as_object);
            for req in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !obj.contains_key(req) {
                    errors.push(format!("{at}: required property {req} is missing"));
                }
            }
            let extra = schema.get("additionalProperties");
            for (k, v) in obj {
                let path = format!("{at}/{k}");
                match props.and_then(|p| p.get(k)) {
                    Some(s) => self.check(s, v, &path, errors),
                    None => match extra {
                        Some(Value::Bool(true)) => {}
                        Some(s @ Value::Object(_)) => self.check(s, v, &path, errors),
                        _ => errors.push(format!("{path}: property not in the schema")),
                    },
                }
            }
        }
        if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
            for (i, v) in arr.iter().enumerate() {
                self.check(items, v, &format!("{at}/{i}"), errors);
            }
        }
    }
}

fn check_keywords(schema: &Value, at: &str) -> Result<(), String> {
    let Some(obj) = schema.as_object() else {
        return Ok(());
    };
    for (k, v) in obj {
        if !KNOWN.contains(&k.as_str()) {
            return Err(format!(
                "{at}: keyword {k} is not supported by the simulator's validator"
            ));
        }
        match k.as_str() {
            "properties" => {
                for (name, s) in v.as_object().into_iter().flatten() {
                    check_keywords(s, &format!("{at}/{name}"))?;
                }
            }
            "items" | "additionalProperties" => check_keywords(v, &format!("{at}/{k}"))?,
            "oneOf" => {
                for s in v.as_array().into_iter().flatten() {
                    check_keywords(s, &format!("{at}/oneOf"))?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schemas() -> Schemas {
        let doc: Value = serde_json::from_str(crate::DOCUMENT).unwrap();
        Schemas::load(&doc).unwrap()
    }

    #[test]
    fn a_valid_device_request_passes() {
        let v = json!({"data": {"type": "devices", "attributes": {"name": "a", "udid": "b", "platform": "IOS"}}});
        assert_eq!(
            schemas().validate("DeviceCreateRequest", &v),
            Vec::<String>::new()
        );
    }

    #[test]
    fn refuses_missing_required_wrong_enum_unknown_property_and_wrong_type() {
        let s = schemas();
        let missing =
            json!({"data": {"type": "devices", "attributes": {"name": "a", "platform": "IOS"}}});
        assert_eq!(
            s.validate("DeviceCreateRequest", &missing),
            vec!["/data/attributes: required property udid is missing"]
        );
        let bad_enum = json!({"data": {"type": "devices", "attributes": {"name": "a", "udid": "b", "platform": "ANDROID"}}});
        assert!(
            s.validate("DeviceCreateRequest", &bad_enum)[0]
                .starts_with("/data/attributes/platform: \"ANDROID\" is not one of")
        );
        let unknown = json!({"data": {"type": "devices", "attributes": {"name": "a", "udid": "b", "platform": "IOS", "colour": "red"}}});
        assert_eq!(
            s.validate("DeviceCreateRequest", &unknown),
            vec!["/data/attributes/colour: property not in the schema"]
        );
        let wrong_type = json!({"data": {"type": "devices", "attributes": {"name": 1, "udid": "b", "platform": "IOS"}}});
        assert_eq!(
            s.validate("DeviceCreateRequest", &wrong_type),
            vec!["/data/attributes/name: not of type string"]
        );
    }

    #[test]
    fn refuses_unknown_keywords() {
        let doc = json!({"components": {"schemas": {"X": {"type": "string", "pattern": "a+"}}}});
        assert_eq!(
            Schemas::load(&doc).unwrap_err(),
            "X: keyword pattern is not supported by the simulator's validator"
        );
    }
}
