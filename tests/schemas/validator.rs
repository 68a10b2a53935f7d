//! The schema validator: the parts of JSON Schema the official specs use, with `$ref`s
//! followed, and a test that it catches what it claims to.

use serde_json::{Value, json};

pub(super) struct Spec {
    name: &'static str,
    doc: Value,
}

pub(super) fn spec(name: &'static str) -> Spec {
    let path = format!(
        "{}/tests/fixtures/vipps-api/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("spec file");
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
    Spec {
        name,
        doc: serde_json::to_value(yaml).expect("as json"),
    }
}

impl Spec {
    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r.strip_prefix('#').expect("local ref");
                self.resolve(self.doc.pointer(pointer).unwrap_or_else(|| panic!("{r}")))
            }
            None => v,
        }
    }

    /// The response schema for `method path` answering `status`.
    fn response_schema(&self, path: &str, method: &str, status: u16) -> &Value {
        let op = &self.doc["paths"][path][method];
        assert!(op.is_object(), "{}: no {method} {path}", self.name);
        // eCom documents its errors once, as `default`.
        let responses = &op["responses"];
        let documented = &responses[status.to_string()];
        let response = self.resolve(if documented.is_null() {
            &responses["default"]
        } else {
            documented
        });
        assert!(
            response.is_object(),
            "{}: {method} {path} documents no {status}",
            self.name
        );
        let content = response["content"].as_object().expect("content");
        let (_, media) = content.iter().next().expect("a media type");
        &media["schema"]
    }

    fn check(&self, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if v.is_null() && schema["nullable"] == true {
            return;
        }
        if let Some(all) = schema["allOf"].as_array() {
            for s in all {
                self.check(s, v, at, errors);
            }
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(options) = schema[key].as_array() {
                let fits = options.iter().any(|s| {
                    let mut e = Vec::new();
                    self.check(s, v, at, &mut e);
                    e.is_empty()
                });
                if !fits {
                    errors.push(format!("{at}: fits none of {key}"));
                }
            }
        }
        if let Some(options) = schema["enum"].as_array()
            && !options.contains(v)
        {
            errors.push(format!("{at}: {v} not in {options:?}"));
        }
        let ty = schema["type"].as_str();
        let type_ok = match ty {
            Some("object") => v.is_object(),
            Some("array") => v.is_array(),
            Some("string") => v.is_string(),
            Some("integer") => v.is_i64() || v.is_u64(),
            Some("number") => v.is_number(),
            Some("boolean") => v.is_boolean(),
            _ => true,
        };
        if !type_ok {
            errors.push(format!("{at}: {v} is not {}", ty.unwrap_or_default()));
            return;
        }
        if let Some(s) = v.as_str() {
            let n = s.chars().count() as u64;
            if schema["minLength"].as_u64().is_some_and(|m| n < m)
                || schema["maxLength"].as_u64().is_some_and(|m| n > m)
            {
                errors.push(format!("{at}: length {n} out of bounds"));
            }
        }
        if let Some(x) = v.as_f64()
            && (schema["minimum"].as_f64().is_some_and(|m| x < m)
                || schema["maximum"].as_f64().is_some_and(|m| x > m))
        {
            errors.push(format!("{at}: {x} out of bounds"));
        }
        if let Some(items) = v.as_array() {
            for (i, item) in items.iter().enumerate() {
                if !schema["items"].is_null() {
                    self.check(&schema["items"], item, &format!("{at}[{i}]"), errors);
                }
            }
        }
        if let Some(obj) = v.as_object() {
            let props = schema["properties"].as_object();
            for r in schema["required"].as_array().into_iter().flatten() {
                let r = r.as_str().unwrap_or_default();
                // A required name the schema never defines is the spec's own mistake: both
                // ePayment specs require `paymentAction` in PaymentEvent, whose field is
                // `name` (and Vipps sends `name`).
                if props.is_some_and(|p| !p.contains_key(r)) {
                    eprintln!("spec defect at {at}: required {r} is not among the properties");
                    continue;
                }
                if !obj.contains_key(r) {
                    errors.push(format!("{at}: missing required {r}"));
                }
            }
            for (k, val) in obj {
                match props.and_then(|p| p.get(k)) {
                    Some(s) => self.check(s, val, &format!("{at}.{k}"), errors),
                    None if schema["additionalProperties"] == false => {
                        errors.push(format!("{at}: {k} is not in the schema"));
                    }
                    None => {}
                }
            }
        }
    }

    /// `body` against the component schema `name` (`Receipt`, `OrderLine`, …).
    #[allow(dead_code)] // tests/receipts.rs uses it
    pub(super) fn validate_component(&self, name: &str, body: &Value) {
        let schema = &self.doc["components"]["schemas"][name];
        assert!(schema.is_object(), "{}: no schema {name}", self.name);
        let mut errors = Vec::new();
        self.check(schema, body, "$", &mut errors);
        assert!(
            errors.is_empty(),
            "{} {name}: {errors:#?}\nbody: {body:#}",
            self.name
        );
    }

    /// The document itself, for its examples.
    #[allow(dead_code)] // tests/receipts.rs uses it
    pub(super) fn doc(&self) -> &Value {
        &self.doc
    }

    pub(super) fn validate(&self, path: &str, method: &str, status: u16, body: &Value) {
        let schema = self.response_schema(path, method, status);
        let mut errors = Vec::new();
        self.check(schema, body, "$", &mut errors);
        assert!(
            errors.is_empty(),
            "{} {method} {path} {status}: {errors:#?}\nbody: {body:#}",
            self.name
        );
    }
}

/// The validator itself catches what it claims to: a wrong type, a missing required field,
/// an unknown field where none are allowed, and a value outside its enum.
#[test]
fn the_validator_finds_wrong_answers() {
    let epayment = spec("epayment-openapi.yaml");
    let schema = epayment.response_schema("/v1/payments/{Reference}", "get", 200);
    let mut errors = Vec::new();
    epayment.check(
        schema,
        &json!({"aggregate": {}, "amount": {"currency": "SEK", "value": "12"}, "state": "PAID"}),
        "$",
        &mut errors,
    );
    let text = errors.join("\n");
    for want in [
        "missing required pspReference",
        "SEK",
        "\"12\" is not integer",
        "PAID",
    ] {
        assert!(text.contains(want), "{want} not found in:\n{text}");
    }
    let webhooks = spec("webhooks-openapi.yaml");
    let schema = webhooks.response_schema("/v1/webhooks", "post", 201);
    let mut errors = Vec::new();
    webhooks.check(
        schema,
        &json!({"id": "a", "secret": "b", "extra": 1}),
        "$",
        &mut errors,
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("extra is not in the schema")),
        "{errors:?}"
    );
}
