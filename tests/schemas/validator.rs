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

/// What is checked beyond the types: `pattern`s, and whether an object may carry properties
/// its schema does not define.
#[derive(Debug, Clone, Copy)]
struct Mode {
    patterns: bool,
    closed: bool,
}

impl Mode {
    /// The simulator's answers: patterns and extra fields are left to its own tests.
    const ANSWER: Mode = Mode {
        patterns: false,
        closed: false,
    };
    /// The kiosk's own requests: everything.
    const REQUEST: Mode = Mode {
        patterns: true,
        closed: true,
    };
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

    /// The response documented for `method path` answering `status`.
    fn response(&self, path: &str, method: &str, status: u16) -> &Value {
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
        response
    }

    /// The response schema for `method path` answering `status`.
    fn response_schema(&self, path: &str, method: &str, status: u16) -> &Value {
        let response = self.response(path, method, status);
        let content = response["content"].as_object().expect("content");
        let (_, media) = content.iter().next().expect("a media type");
        &media["schema"]
    }

    fn check(&self, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
        self.check_in(schema, v, at, Mode::ANSWER, errors);
    }

    /// The properties a schema defines, its `allOf` parts' included; `None` when it is open
    /// (defines none, or allows others).
    fn defined(&self, schema: &Value) -> Option<Vec<String>> {
        let schema = self.resolve(schema);
        if !schema["additionalProperties"].is_null() && schema["additionalProperties"] != false {
            return None;
        }
        let mut names: Vec<String> = schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        for part in schema["allOf"].as_array().into_iter().flatten() {
            names.extend(self.defined(part)?);
        }
        (!names.is_empty()).then_some(names)
    }

    fn check_in(&self, schema: &Value, v: &Value, at: &str, mode: Mode, errors: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if v.is_null() && schema["nullable"] == true {
            return;
        }
        if mode.closed
            && let (Some(obj), Some(names)) = (v.as_object(), self.defined(schema))
        {
            for k in obj.keys().filter(|k| !names.contains(k)) {
                errors.push(format!("{at}: {k} is not defined by the schema"));
            }
        }
        if let Some(all) = schema["allOf"].as_array() {
            // The parts together define the object: each part alone is not closed.
            let part = Mode {
                closed: false,
                ..mode
            };
            for s in all {
                self.check_in(s, v, at, part, errors);
            }
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(options) = schema[key].as_array() {
                let fits = options.iter().any(|s| {
                    let mut e = Vec::new();
                    self.check_in(s, v, at, mode, &mut e);
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
            if mode.patterns
                && let Some(pattern) = schema["pattern"].as_str()
            {
                match regex::Regex::new(pattern.trim()) {
                    Ok(re) if !re.is_match(s) => {
                        errors.push(format!("{at}: {s:?} does not match {pattern}"));
                    }
                    Ok(_) => {}
                    Err(e) => eprintln!("spec defect at {at}: pattern {pattern}: {e}"),
                }
            }
        }
        if let Some(x) = v.as_f64()
            && (schema["minimum"].as_f64().is_some_and(|m| x < m)
                || schema["maximum"].as_f64().is_some_and(|m| x > m))
        {
            errors.push(format!("{at}: {x} out of bounds"));
        }
        if let Some(items) = v.as_array() {
            let n = items.len() as u64;
            if schema["minItems"].as_u64().is_some_and(|m| n < m)
                || schema["maxItems"].as_u64().is_some_and(|m| n > m)
            {
                errors.push(format!("{at}: {n} items out of bounds"));
            }
            for (i, item) in items.iter().enumerate() {
                if !schema["items"].is_null() {
                    self.check_in(&schema["items"], item, &format!("{at}[{i}]"), mode, errors);
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
                    Some(s) => self.check_in(s, val, &format!("{at}.{k}"), mode, errors),
                    None if schema["additionalProperties"] == false => {
                        errors.push(format!("{at}: {k} is not in the schema"));
                    }
                    None => {}
                }
            }
        }
    }

    /// The request body schema for `method path`.
    fn request_schema(&self, path: &str, method: &str) -> &Value {
        let op = &self.doc["paths"][path][method];
        assert!(op.is_object(), "{}: no {method} {path}", self.name);
        let body = self.resolve(&op["requestBody"]);
        let content = body["content"]
            .as_object()
            .unwrap_or_else(|| panic!("{}: {method} {path} takes no body", self.name));
        let (_, media) = content.iter().next().expect("a media type");
        &media["schema"]
    }

    /// Checks a request body the kiosk sent for `method path` (as the spec names the path):
    /// besides what answers are checked for, every `pattern`, and no property the schema
    /// does not define (Vipps may refuse or silently drop it).
    pub(super) fn validate_request(&self, path: &str, method: &str, body: &Value) {
        let schema = self.request_schema(path, method);
        let mut errors = Vec::new();
        self.check_in(schema, body, "$", Mode::REQUEST, &mut errors);
        assert!(
            errors.is_empty(),
            "{} request {method} {path}: {errors:#?}\nbody: {body:#}",
            self.name
        );
    }

    /// The media types documented for `method path` answering `status` (none: no body).
    pub(super) fn media_types(&self, path: &str, method: &str, status: u16) -> Vec<String> {
        self.response(path, method, status)["content"]
            .as_object()
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// `validate`, and the answer's content type is one the spec declares for it.
    pub(super) fn validate_typed(
        &self,
        path: &str,
        method: &str,
        status: u16,
        content_type: &str,
        body: &Value,
    ) {
        let declared = self.media_types(path, method, status);
        if declared.is_empty() {
            assert!(
                content_type.is_empty() && body.is_null(),
                "{} {method} {path} {status} documents no body: {content_type:?} {body}",
                self.name
            );
            return;
        }
        assert!(
            declared.iter().any(|m| m == content_type),
            "{} {method} {path} {status}: content type {content_type:?}, declared {declared:?}",
            self.name
        );
        self.validate(path, method, status, body);
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

/// For request bodies it also catches a reference or phone number off its pattern, a field
/// the schema does not define, two customers where the spec allows one, and an empty list
/// where one item is the least.
#[test]
fn the_validator_finds_wrong_requests() {
    let epayment = spec("epayment-openapi.yaml");
    let schema = epayment.request_schema("/v1/payments", "post");
    let mut errors = Vec::new();
    epayment.check_in(
        schema,
        &json!({
            "amount": {"currency": "NOK", "value": 100},
            "paymentMethod": {"type": "WALLET"},
            "reference": "short_1",
            "userFlow": "PUSH_MESSAGE",
            "customer": {"phoneNumber": "+47 12345678"},
            "receipt": {"orderLines": [], "bottomLine": {"currency": "NOK"}},
            "lane": "3",
        }),
        "$",
        Mode::REQUEST,
        &mut errors,
    );
    let text = errors.join("\n");
    for want in [
        "$.reference: \"short_1\" does not match",
        "$.customer: fits none of oneOf",
        "$.receipt.orderLines: 0 items out of bounds",
        "$: lane is not defined by the schema",
    ] {
        assert!(text.contains(want), "{want} not found in:\n{text}");
    }
    let mut errors = Vec::new();
    epayment.check_in(
        epayment.request_schema("/v1/payments", "post"),
        &json!({"amount": {"currency": "NOK", "value": 100}, "paymentMethod": {"type": "WALLET"},
            "reference": "kiosk-order-1", "userFlow": "PUSH_MESSAGE",
            "customer": {"phoneNumber": "4712345678", "personalQr": "https://qr.vipps.no/p/x"}}),
        "$",
        Mode::REQUEST,
        &mut errors,
    );
    assert!(
        errors.iter().any(|e| e.contains("fits none of oneOf")),
        "one customer only: {errors:?}"
    );
}
