//! Carries out the machine's API effects with the Vipps client and turns the answers into
//! machine inputs. The only place where the client and the machine meet.

use crate::{
    payment::{ApiError, Effect, Input, Observed},
    vipps::{
        self, Client,
        model::{Aggregate, PaymentState},
    },
};

/// What the machine needs of a GET, capture or cancel answer.
fn observed(state: PaymentState, aggregate: Aggregate) -> Observed {
    Observed {
        state,
        aggregate,
        redirect_url: None,
    }
}

fn api(e: vipps::Error) -> ApiError {
    ApiError::from(&e)
}

/// Runs one effect. `None` for effects that are not API calls (notifications).
pub async fn execute(client: Client, effect: Effect) -> Option<Input> {
    Some(match effect {
        Effect::Create {
            request,
            idempotency_key,
        } => {
            let reference = request.reference.clone();
            let result = client
                .create_payment(&request, &idempotency_key)
                .await
                .map(|c| c.redirect_url)
                .map_err(api);
            Input::Created { reference, result }
        }
        Effect::Poll { reference } => {
            let result = client
                .get_payment(&reference)
                .await
                .map(|p| Observed {
                    redirect_url: p.redirect_url,
                    ..observed(p.state, p.aggregate)
                })
                .map_err(api);
            Input::Polled { reference, result }
        }
        Effect::Capture {
            reference,
            amount,
            idempotency_key,
        } => {
            let result = client
                .capture(&reference, amount, &idempotency_key)
                .await
                .map(|m| observed(m.state, m.aggregate))
                .map_err(api);
            Input::Captured { reference, result }
        }
        Effect::Cancel {
            reference,
            transaction_only,
            idempotency_key,
        } => {
            let result = client
                .cancel(&reference, transaction_only, &idempotency_key)
                .await
                .map(|m| observed(m.state, m.aggregate))
                .map_err(api);
            Input::CancelAnswered { reference, result }
        }
        Effect::Exchange { reference, code } => {
            let result = client.exchange_qr(code.as_str()).await.map_err(api);
            Input::Exchanged { reference, result }
        }
        Effect::Notify(_) | Effect::Refused { .. } => return None,
    })
}
