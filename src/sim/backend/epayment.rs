//! The ePayment API's payments: create (idempotent, checked in `checks`), get and events. The
//! modifications (capture, cancel, refund) are in `modify`.

use super::{
    Backend, Op, Reply, SimApi, SimPayment,
    checks::parse_create,
    fxhash,
    links::{ImageFormat, Links},
    problem,
};
use crate::vipps::model::{
    Aggregate, CreatePaymentRequest, CreatePaymentResponse, GetPaymentResponse, PaymentEventName,
    PaymentMethod, PaymentMethodType, PaymentState, ProfileResponse, QrFormatKind, UserFlow,
};
use serde_json::Value;

impl Backend {
    /// `POST /epayment/v1/payments` from the sales unit `msn`. A replay answers what the
    /// first call was answered and changes nothing.
    pub fn create(&mut self, key: &str, msn: &str, request: Value, now: f64) -> Reply {
        let reference = request
            .get("reference")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if let Some(r) = self.replay(key, Op::Create, &reference, &request) {
            return r;
        }
        let reply = self.create_new(&request, msn, now);
        self.remember(key, Op::Create, &reference, request, &reply);
        reply
    }

    /// A create not seen before: checked in Vipps' order, then stored as CREATED.
    pub(super) fn create_new(&mut self, request: &Value, msn: &str, now: f64) -> Reply {
        let req = match parse_create(request) {
            Ok(r) => r,
            Err(reply) => return reply,
        };
        let expiry = match self.check_create(&req) {
            Ok(e) => e,
            Err(reply) => return reply,
        };
        let mut payment = self.new_payment(&req, expiry, now);
        payment.msn = msn.to_string();
        let redirect_url = payment.redirect_url.clone();
        self.payments.insert(req.reference.clone(), payment);
        self.order.push(req.reference.clone());
        self.push_event(
            &req.reference,
            PaymentEventName::Created,
            req.amount,
            None,
            true,
        );
        Reply::ok(
            201,
            CreatePaymentResponse {
                reference: req.reference,
                redirect_url,
            },
        )
    }

    /// A checked request as a CREATED payment, open for `expiry` simulator seconds from `now`,
    /// with its own PSP reference and code.
    fn new_payment(&mut self, req: &CreatePaymentRequest, expiry: f64, now: f64) -> SimPayment {
        let amount = req.amount;
        let psp = self.next_psp();
        let code = format!(
            "{:08x}{:04x}",
            fxhash(&req.reference),
            self.psp_counter & 0xffff
        );
        let (qr_target_url, redirect_url) = self.links_of(req, &code);
        SimPayment {
            reference: req.reference.clone(),
            state: PaymentState::Created,
            user_flow: req.user_flow,
            amount,
            aggregate: Aggregate::zero(amount.currency),
            customer: req.customer.clone(),
            minimum_user_age: req.minimum_user_age,
            psp_reference: psp,
            code,
            qr_target_url,
            receipt: req.receipt.clone(),
            payment_description: req.payment_description.clone(),
            created_at: now,
            expires_at: now + expiry,
            redirect_url,
            events: Vec::new(),
            msn: String::new(),
            api: SimApi::Epayment,
            opened: None,
            qr_expires_at: now + expiry,
        }
    }

    /// The QR's target URL and the `redirectUrl` answered, by user flow ([`links`]): a QR
    /// payment's link is its target or an image of it (`qrFormat`, SVG by default); a
    /// redirect flow's is its landing page.
    fn links_of(&self, req: &CreatePaymentRequest, code: &str) -> (Option<String>, Option<String>) {
        let base = &self.base_url;
        match req.user_flow {
            UserFlow::Qr => {
                let target = Links::target_url(code);
                let format = req.qr_format.as_ref();
                let redirect = match format.map(|f| f.format) {
                    Some(QrFormatKind::TextTargetUrl) => target.clone(),
                    Some(QrFormatKind::ImagePng) => {
                        let size = format.and_then(|f| f.size);
                        self.links.image(base, code, ImageFormat::Png, size)
                    }
                    Some(QrFormatKind::ImageSvg) | None => {
                        self.links.image(base, code, ImageFormat::Svg, None)
                    }
                };
                (Some(target), Some(redirect))
            }
            UserFlow::WebRedirect | UserFlow::NativeRedirect => (
                None,
                Some(
                    self.links
                        .landing(base, code, req.amount.currency, self.today()),
                ),
            ),
            UserFlow::PushMessage => (None, None),
        }
    }

    pub(super) fn get_body(&self, reference: &str) -> Option<GetPaymentResponse> {
        let p = self.payments.get(reference)?;
        Some(GetPaymentResponse {
            aggregate: p.aggregate,
            amount: p.amount,
            state: p.state,
            payment_method: PaymentMethod {
                kind: PaymentMethodType::Wallet,
            },
            profile: ProfileResponse::default(),
            psp_reference: p.psp_reference.clone(),
            redirect_url: p.redirect_url.clone(),
            reference: p.reference.clone(),
        })
    }

    pub fn get(&self, reference: &str) -> Reply {
        match self.get_body(reference) {
            Some(b) => Reply::ok(200, b),
            None => problem(
                404,
                Some(5090),
                "Not Found",
                "no payment with that reference",
            ),
        }
    }

    pub fn events(&self, reference: &str) -> Reply {
        match self.payments.get(reference) {
            Some(p) => Reply::ok(200, &p.events),
            None => problem(
                404,
                Some(5090),
                "Not Found",
                "no payment with that reference",
            ),
        }
    }
}
