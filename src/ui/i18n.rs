//! Every customer-facing string, through one table. Each string is an exhaustive `match` over
//! the languages with no fallback arm: a missing translation does not compile.

use crate::payment::{FailureReason, Notice};
use crate::vipps::model::{Amount, Currency};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Lang {
    /// Norwegian bokmål.
    #[serde(rename = "nb")]
    Nb,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Nb, Lang::En];

    /// The language's own name, for the language switch (no flags).
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::Nb => "Norsk",
            Lang::En => "English",
        }
    }
}

/// The strings of the kiosk. `brand` is "Vipps" or "MobilePay".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Welcome,
    WelcomeBody,
    Total,
    ScanWithApp,
    OrPersonalQr,
    PreparingQr,
    QrRefreshing,
    NewCodeSoon,
    ApproveInApp,
    ApproveBody,
    SendingToPhone,
    TimeLeft,
    Cancel,
    Cancelling,
    CheckingConnection,
    Completing,
    CompletingBody,
    ThankYou,
    Paid,
    Receipt,
    Ok,
    OutOfService,
    OutOfServiceBody,
    OrderCancelled,
}

impl Text {
    pub fn get(self, lang: Lang) -> &'static str {
        use Lang::*;
        use Text::*;
        match self {
            Welcome => match lang {
                Nb => "Velkommen",
                En => "Welcome",
            },
            WelcomeBody => match lang {
                Nb => "Handlekurven din vises her når varene er skannet.",
                En => "Your purchase shows here once your items are scanned.",
            },
            Total => match lang {
                Nb => "Å betale",
                En => "To pay",
            },
            ScanWithApp => match lang {
                Nb => "Skann koden med appen",
                En => "Scan the code with the app",
            },
            OrPersonalQr => match lang {
                Nb => "eller hold din personlige QR-kode fra appen mot skanneren",
                En => "or hold the personal QR code from your app up to the scanner",
            },
            PreparingQr => match lang {
                Nb => "Lager betalingskoden …",
                En => "Preparing the payment code …",
            },
            QrRefreshing => match lang {
                Nb => "Lager en ny kode …",
                En => "Making a new code …",
            },
            NewCodeSoon => match lang {
                Nb => "Koden fornyes om",
                En => "The code renews in",
            },
            ApproveInApp => match lang {
                Nb => "Godkjenn i appen",
                En => "Approve in your app",
            },
            ApproveBody => match lang {
                Nb => "Vi har sendt betalingen til telefonen din. Åpne appen og godkjenn.",
                En => "We sent the payment to your phone. Open the app and approve it.",
            },
            SendingToPhone => match lang {
                Nb => "Sender betalingen til telefonen din …",
                En => "Sending the payment to your phone …",
            },
            TimeLeft => match lang {
                Nb => "Tid igjen",
                En => "Time left",
            },
            Cancel => match lang {
                Nb => "Avbryt",
                En => "Cancel",
            },
            Cancelling => match lang {
                Nb => "Avbryter …",
                En => "Cancelling …",
            },
            CheckingConnection => match lang {
                Nb => "Tregt svar fra betalingstjenesten. Vi prøver igjen …",
                En => "The payment service is slow to answer. Still trying …",
            },
            Completing => match lang {
                Nb => "Betalingen er godkjent",
                En => "Payment approved",
            },
            CompletingBody => match lang {
                Nb => "Fullfører betalingen, et øyeblikk …",
                En => "Completing the payment, one moment …",
            },
            ThankYou => match lang {
                Nb => "Takk for handelen!",
                En => "Thank you!",
            },
            Paid => match lang {
                Nb => "Betalt",
                En => "Paid",
            },
            Receipt => match lang {
                Nb => "Kvittering",
                En => "Receipt",
            },
            Ok => match lang {
                Nb => "OK",
                En => "OK",
            },
            OutOfService => match lang {
                Nb => "Ute av drift",
                En => "Out of service",
            },
            OutOfServiceBody => match lang {
                Nb => "Bruk en annen kasse, eller spør de ansatte.",
                En => "Please use another till, or ask staff.",
            },
            OrderCancelled => match lang {
                Nb => "Kjøpet ble avbrutt",
                En => "The purchase was cancelled",
            },
        }
    }
}

/// Title and what-to-do for a failed payment.
pub fn failure(reason: FailureReason, lang: Lang) -> (&'static str, &'static str) {
    use FailureReason::*;
    use Lang::*;
    match reason {
        CancelledInApp => match lang {
            Nb => (
                "Betalingen ble avbrutt i appen",
                "Du kan prøve igjen: skann koden som kommer.",
            ),
            En => (
                "The payment was cancelled in the app",
                "You can try again: scan the code that follows.",
            ),
        },
        Expired => match lang {
            Nb => (
                "Tiden gikk ut",
                "Betalingen ble ikke godkjent i tide. Prøv igjen.",
            ),
            En => (
                "Time ran out",
                "The payment was not approved in time. Please try again.",
            ),
        },
        Cancelled => match lang {
            Nb => (
                "Betalingen ble stoppet",
                "Prøv igjen, eller spør de ansatte.",
            ),
            En => ("The payment was stopped", "Please try again, or ask staff."),
        },
        NotVippsCode => match lang {
            Nb => (
                "Koden kan ikke brukes",
                "Vis den personlige QR-koden fra Vipps- eller MobilePay-appen, eller skann koden på skjermen.",
            ),
            En => (
                "That code cannot be used",
                "Show the personal QR code from the Vipps or MobilePay app, or scan the code on screen.",
            ),
        },
        CustomerNotFound => match lang {
            Nb => (
                "Vi kunne ikke sende betalingen til appen",
                "Skann koden på skjermen med appen i stedet.",
            ),
            En => (
                "We could not send the payment to your app",
                "Scan the code on screen with your app instead.",
            ),
        },
        PushNotAllowed => match lang {
            Nb => (
                "Personlig QR kan ikke brukes her",
                "Skann koden på skjermen med appen.",
            ),
            En => (
                "Personal QR codes cannot be used here",
                "Scan the code on screen with your app.",
            ),
        },
        ServiceTrouble => match lang {
            Nb => (
                "Betalingstjenesten svarer ikke",
                "Prøv den andre måten å betale på, eller spør de ansatte.",
            ),
            En => (
                "The payment service is not answering",
                "Try the other way to pay, or ask staff.",
            ),
        },
    }
}

pub fn notice(n: Notice, lang: Lang) -> &'static str {
    use Lang::*;
    match n {
        Notice::NotVippsCode => match lang {
            Nb => {
                "Det er ikke en Vipps- eller MobilePay-kode. Vis den personlige QR-koden fra appen."
            }
            En => "That is not a Vipps or MobilePay code. Show the personal QR code from your app.",
        },
        Notice::AlreadyInProgress => match lang {
            Nb => "En betaling venter allerede på godkjenning i appen.",
            En => "A payment is already waiting for approval in the app.",
        },
        Notice::NoOrder => match lang {
            Nb => "Ingenting å betale ennå.",
            En => "Nothing to pay yet.",
        },
    }
}

/// `kr 1 298,00` (NOK), `1 298,00 kr.` (DKK), `1 298,00 €` (EUR). Integer arithmetic only.
pub fn format_amount(a: Amount) -> String {
    let sign = if a.value < 0 { "-" } else { "" };
    let v = a.value.unsigned_abs();
    let (major, minor) = (v / 100, v % 100);
    let digits = major.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('\u{a0}');
        }
        grouped.push(c);
    }
    let n = format!("{sign}{grouped},{minor:02}");
    match a.currency {
        Currency::Nok => format!("kr\u{a0}{n}"),
        Currency::Dkk => format!("{n}\u{a0}kr."),
        Currency::Eur => format!("{n}\u{a0}€"),
    }
}

/// "4:05" for a countdown.
pub fn format_countdown(secs: u64) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_use_each_markets_convention() {
        assert_eq!(
            format_amount(Amount::new(Currency::Nok, 49800)),
            "kr\u{a0}498,00"
        );
        assert_eq!(
            format_amount(Amount::new(Currency::Dkk, 49805)),
            "498,05\u{a0}kr."
        );
        assert_eq!(
            format_amount(Amount::new(Currency::Eur, 129_900)),
            "1\u{a0}299,00\u{a0}€"
        );
        assert_eq!(format_amount(Amount::new(Currency::Nok, 5)), "kr\u{a0}0,05");
        assert_eq!(
            format_amount(Amount::new(Currency::Nok, 123_456_789)),
            "kr\u{a0}1\u{a0}234\u{a0}567,89"
        );
    }

    #[test]
    fn countdown_reads_as_minutes_and_seconds() {
        assert_eq!(format_countdown(245), "4:05");
        assert_eq!(format_countdown(9), "0:09");
    }

    #[test]
    fn no_string_is_empty_in_any_language() {
        let all = [
            Text::Welcome,
            Text::WelcomeBody,
            Text::Total,
            Text::ScanWithApp,
            Text::OrPersonalQr,
            Text::PreparingQr,
            Text::QrRefreshing,
            Text::NewCodeSoon,
            Text::ApproveInApp,
            Text::ApproveBody,
            Text::SendingToPhone,
            Text::TimeLeft,
            Text::Cancel,
            Text::Cancelling,
            Text::CheckingConnection,
            Text::Completing,
            Text::CompletingBody,
            Text::ThankYou,
            Text::Paid,
            Text::Receipt,
            Text::Ok,
            Text::OutOfService,
            Text::OutOfServiceBody,
            Text::OrderCancelled,
        ];
        for lang in Lang::ALL {
            for t in all {
                assert!(!t.get(lang).trim().is_empty(), "{t:?} in {lang:?}");
            }
        }
    }
}
