//! Every customer-facing string, through one table. Each string is one row of five
//! translations, indexed by language: a missing translation is an array of the wrong length,
//! and a missing string a non-exhaustive match. Neither compiles. No fallback arm anywhere.
//!
//! Strings that name the app carry `{brand}` (the lane's brand) or `{brands}` (the lane's
//! brand, and the other while both exist: "Vipps- eller MobilePay"), filled by `fill`. Brand
//! names are never inflected: Finnish joins them to a noun ("Vipps-sovelluksella").

use crate::market::{Branding, Lang};
use crate::payment::{FailureReason, Line, Notice};
use crate::vipps::model::{Amount, Currency, QuantityUnit};
use std::borrow::Cow;

/// One string in every language, in the order of `Lang::ALL`.
type Row = [&'static str; 5];

/// `row`'s string in `lang`.
fn pick(lang: Lang, row: Row) -> &'static str {
    row[lang.index()]
}

/// The strings of the kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Welcome,
    WelcomeBody,
    AttractTitle,
    AttractSteps,
    Total,
    ScanWithApp,
    OrPersonalQr,
    PreparingQr,
    QrRefreshing,
    ApproveInApp,
    ApproveBody,
    ApproveOpenedBody,
    SendingToPhone,
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
    LargerText,
    NormalText,
    StillThere,
    MoreTime,
    ScannerMissing,
    Discount,
    ReadAloud,
    StopReading,
    SpeechOn,
    MoreTimeSpoken,
    PaymentDescription,
    PaymentDescriptionNoStore,
    OrPhoneNumber,
    KeypadTitle,
    KeypadInstruction,
    MobileNumber,
    CountryCodeLabel,
    Send,
    Back,
    Delete,
    TypeNumberFirst,
}

impl Text {
    pub const ALL: [Text; 46] = [
        Text::Welcome,
        Text::WelcomeBody,
        Text::AttractTitle,
        Text::AttractSteps,
        Text::Total,
        Text::ScanWithApp,
        Text::OrPersonalQr,
        Text::PreparingQr,
        Text::QrRefreshing,
        Text::ApproveInApp,
        Text::ApproveBody,
        Text::ApproveOpenedBody,
        Text::SendingToPhone,
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
        Text::LargerText,
        Text::NormalText,
        Text::StillThere,
        Text::MoreTime,
        Text::ScannerMissing,
        Text::Discount,
        Text::ReadAloud,
        Text::StopReading,
        Text::SpeechOn,
        Text::MoreTimeSpoken,
        Text::PaymentDescription,
        Text::PaymentDescriptionNoStore,
        Text::OrPhoneNumber,
        Text::KeypadTitle,
        Text::KeypadInstruction,
        Text::MobileNumber,
        Text::CountryCodeLabel,
        Text::Send,
        Text::Back,
        Text::Delete,
        Text::TypeNumberFirst,
    ];

    fn row(self) -> Row {
        match self {
            Text::Welcome => [
                "Velkommen",
                "Velkommen",
                "Tervetuloa",
                "Välkommen",
                "Welcome",
            ],
            Text::WelcomeBody => [
                "Handlekurven din vises her når varene er skannet.",
                "Din kurv vises her, når varerne er scannet.",
                "Ostoksesi näkyvät tässä, kun tuotteet on skannattu.",
                "Dina varor visas här när de har skannats.",
                "Your purchase shows here once your items are scanned.",
            ],
            Text::AttractTitle => [
                "Betal enkelt med {brand}",
                "Betal nemt med {brand}",
                "Maksa helposti {brand}-sovelluksella",
                "Betala enkelt med {brand}",
                "Pay easily with {brand}",
            ],
            Text::AttractSteps => [
                "Skann varene i kassen. Skann deretter koden på skjermen, eller vis din personlige QR-kode.",
                "Scan varerne ved kassen. Scan derefter koden på skærmen, eller vis din personlige QR-kode.",
                "Skannaa tuotteet kassalla. Skannaa sitten näytön koodi tai näytä henkilökohtainen QR-koodisi.",
                "Skanna varorna i kassan. Skanna sedan koden på skärmen eller visa din personliga QR-kod.",
                "Scan your items at the till. Then scan the code on screen, or show your personal QR code.",
            ],
            Text::Total => [
                "Å betale",
                "At betale",
                "Maksettavaa",
                "Att betala",
                "To pay",
            ],
            Text::ScanWithApp => [
                "Skann og betal med {brand}",
                "Scan og betal med {brand}",
                "Skannaa ja maksa {brand}-sovelluksella",
                "Skanna och betala med {brand}",
                "Scan and pay with {brand}",
            ],
            Text::OrPersonalQr => [
                "eller hold din personlige QR-kode fra appen mot skanneren",
                "eller hold din personlige QR-kode fra appen op til scanneren",
                "tai näytä sovelluksen henkilökohtainen QR-koodisi lukijalle",
                "eller håll upp din personliga QR-kod från appen mot skannern",
                "or hold the personal QR code from your app up to the scanner",
            ],
            Text::PreparingQr => [
                "Lager betalingskoden …",
                "Betalingskoden laves …",
                "Maksukoodia luodaan …",
                "Betalkoden skapas …",
                "Preparing the payment code …",
            ],
            Text::QrRefreshing => [
                "Lager en ny kode …",
                "Laver en ny kode …",
                "Luodaan uutta koodia …",
                "Skapar en ny kod …",
                "Making a new code …",
            ],
            Text::ApproveInApp => [
                "Godkjenn i {brand}",
                "Godkend i {brand}",
                "Hyväksy {brand}-sovelluksessa",
                "Godkänn i {brand}",
                "Approve in {brand}",
            ],
            Text::ApproveBody => [
                "Vi har sendt betalingen til telefonen din. Åpne appen og godkjenn.",
                "Vi har sendt betalingen til din telefon. Åbn appen og godkend.",
                "Lähetimme maksun puhelimeesi. Avaa sovellus ja hyväksy maksu.",
                "Vi har skickat betalningen till din telefon. Öppna appen och godkänn.",
                "We sent the payment to your phone. Open the app and approve it.",
            ],
            Text::ApproveOpenedBody => [
                "Betalingen er åpen i appen på telefonen din. Godkjenn den der.",
                "Betalingen er åben i appen på din telefon. Godkend den der.",
                "Maksu on auki puhelimesi sovelluksessa. Hyväksy se siellä.",
                "Betalningen är öppen i appen på din telefon. Godkänn den där.",
                "The payment is open in the app on your phone. Approve it there.",
            ],
            Text::SendingToPhone => [
                "Sender betalingen til telefonen din …",
                "Sender betalingen til din telefon …",
                "Lähetetään maksua puhelimeesi …",
                "Skickar betalningen till din telefon …",
                "Sending the payment to your phone …",
            ],
            Text::Cancel => ["Avbryt", "Annuller", "Peruuta", "Avbryt", "Cancel"],
            Text::Cancelling => [
                "Avbryter …",
                "Annullerer …",
                "Peruutetaan …",
                "Avbryter …",
                "Cancelling …",
            ],
            Text::CheckingConnection => [
                "Tregt svar fra betalingstjenesten. Vi prøver igjen …",
                "Betalingstjenesten svarer langsomt. Vi prøver igen …",
                "Maksupalvelu vastaa hitaasti. Yritämme uudelleen …",
                "Betaltjänsten svarar långsamt. Vi försöker igen …",
                "The payment service is slow to answer. Still trying …",
            ],
            Text::Completing => [
                "Betalingen er godkjent",
                "Betalingen er godkendt",
                "Maksu on hyväksytty",
                "Betalningen är godkänd",
                "Payment approved",
            ],
            Text::CompletingBody => [
                "Fullfører betalingen, et øyeblikk …",
                "Gennemfører betalingen, et øjeblik …",
                "Viimeistellään maksua, hetki …",
                "Slutför betalningen, ett ögonblick …",
                "Completing the payment, one moment …",
            ],
            Text::ThankYou => [
                "Takk for handelen!",
                "Tak for handlen!",
                "Kiitos ostoksestasi!",
                "Tack för ditt köp!",
                "Thank you!",
            ],
            Text::Paid => ["Betalt", "Betalt", "Maksettu", "Betalt", "Paid"],
            Text::Receipt => ["Kvittering", "Kvittering", "Kuitti", "Kvitto", "Receipt"],
            Text::Ok => ["OK", "OK", "OK", "OK", "OK"],
            Text::OutOfService => [
                "Ute av drift",
                "Ude af drift",
                "Poissa käytöstä",
                "Ur funktion",
                "Out of service",
            ],
            Text::OutOfServiceBody => [
                "Bruk en annen kasse, eller spør de ansatte.",
                "Brug en anden kasse, eller spørg personalet.",
                "Käytä toista kassaa tai kysy henkilökunnalta.",
                "Använd en annan kassa eller fråga personalen.",
                "Please use another till, or ask staff.",
            ],
            Text::OrderCancelled => [
                "Kjøpet ble avbrutt",
                "Købet blev annulleret",
                "Ostos peruttiin",
                "Köpet avbröts",
                "The purchase was cancelled",
            ],
            Text::LargerText => [
                "Større tekst",
                "Større tekst",
                "Suurempi teksti",
                "Större text",
                "Larger text",
            ],
            Text::NormalText => [
                "Vanlig tekst",
                "Normal tekst",
                "Normaali teksti",
                "Normal text",
                "Normal text",
            ],
            Text::StillThere => [
                "Er du der fortsatt?",
                "Er du her stadig?",
                "Oletko vielä siellä?",
                "Är du kvar?",
                "Are you still there?",
            ],
            Text::MoreTime => [
                "Jeg trenger mer tid",
                "Jeg har brug for mere tid",
                "Tarvitsen lisää aikaa",
                "Jag behöver mer tid",
                "I need more time",
            ],
            Text::ScannerMissing => [
                "Skanneren virker ikke. Skann koden på skjermen, eller betal med telefonnummeret ditt.",
                "Scanneren virker ikke. Scan koden på skærmen, eller betal med dit telefonnummer.",
                "Lukija ei toimi. Skannaa näytön koodi tai maksa puhelinnumerollasi.",
                "Skannern fungerar inte. Skanna koden på skärmen eller betala med ditt telefonnummer.",
                "The scanner is not working. Scan the code on screen, or pay with your phone number.",
            ],
            Text::Discount => ["Rabatt", "Rabat", "Alennus", "Rabatt", "Discount"],
            Text::ReadAloud => ["Les opp", "Læs op", "Lue ääneen", "Läs upp", "Read aloud"],
            Text::StopReading => [
                "Stopp opplesing",
                "Stop oplæsning",
                "Lopeta ääneen luku",
                "Sluta läsa upp",
                "Stop reading",
            ],
            Text::SpeechOn => [
                "Opplesing er på.",
                "Oplæsning er slået til.",
                "Ääneen luku on päällä.",
                "Uppläsningen är på.",
                "Reading aloud is on.",
            ],
            Text::MoreTimeSpoken => [
                "Trykk «Jeg trenger mer tid», eller opplesingstasten, for å fortsette.",
                "Tryk på »Jeg har brug for mere tid« eller oplæsningstasten for at fortsætte.",
                "Jatka painamalla »Tarvitsen lisää aikaa» tai ääneen luvun näppäintä.",
                "Tryck på ”Jag behöver mer tid” eller uppläsningstangenten för att fortsätta.",
                "Press “I need more time”, or the read-aloud key, to carry on.",
            ],
            Text::OrPhoneNumber => [
                "eller betal med telefonnummeret ditt",
                "eller betal med dit telefonnummer",
                "tai maksa puhelinnumerollasi",
                "eller betala med ditt telefonnummer",
                "or pay with your phone number",
            ],
            Text::KeypadTitle => [
                "Betal med telefonnummer",
                "Betal med telefonnummer",
                "Maksa puhelinnumerolla",
                "Betala med telefonnummer",
                "Pay with your phone number",
            ],
            Text::KeypadInstruction => [
                "Skriv inn mobilnummeret ditt og trykk Send. Du godkjenner betalingen i {brand}.",
                "Indtast dit mobilnummer, og tryk Send. Du godkender betalingen i {brand}.",
                "Näppäile matkapuhelinnumerosi ja paina Lähetä. Hyväksyt maksun {brand}-sovelluksessa.",
                "Skriv ditt mobilnummer och tryck Skicka. Du godkänner betalningen i {brand}.",
                "Type your mobile number and press Send. You approve the payment in {brand}.",
            ],
            Text::MobileNumber => [
                "Mobilnummer",
                "Mobilnummer",
                "Matkapuhelinnumero",
                "Mobilnummer",
                "Mobile number",
            ],
            Text::CountryCodeLabel => [
                "Landskode",
                "Landekode",
                "Maatunnus",
                "Landsnummer",
                "Country code",
            ],
            Text::Send => ["Send", "Send", "Lähetä", "Skicka", "Send"],
            Text::Back => ["Tilbake", "Tilbage", "Takaisin", "Tillbaka", "Back"],
            Text::Delete => ["Slett", "Slet", "Poista", "Radera", "Delete"],
            Text::TypeNumberFirst => [
                "Skriv inn nummeret ditt først.",
                "Indtast dit nummer først.",
                "Näppäile ensin numerosi.",
                "Skriv ditt nummer först.",
                "Type your number first.",
            ],
            // The payment's text in the app, the portal and settlement files (3-100 characters).
            Text::PaymentDescription => [
                "{store}, kvittering {receipt}",
                "{store}, kvittering {receipt}",
                "{store}, kuitti {receipt}",
                "{store}, kvitto {receipt}",
                "{store}, receipt {receipt}",
            ],
            Text::PaymentDescriptionNoStore => [
                "Kjøp, kvittering {receipt}",
                "Køb, kvittering {receipt}",
                "Ostos, kuitti {receipt}",
                "Köp, kvitto {receipt}",
                "Purchase, receipt {receipt}",
            ],
        }
    }

    /// The string as written, placeholders and all.
    pub fn get(self, lang: Lang) -> &'static str {
        pick(lang, self.row())
    }

    /// The string with the lane's brand names in it.
    pub fn with(self, lang: Lang, branding: Branding) -> Cow<'static, str> {
        fill(self.get(lang), lang, branding)
    }
}

/// `template` with `{brand}` and `{brands}` filled in.
pub fn fill(template: &'static str, lang: Lang, branding: Branding) -> Cow<'static, str> {
    if !template.contains("{brand") {
        return Cow::Borrowed(template);
    }
    let own = branding.brand.name();
    let brands = match branding.also {
        None => own.to_string(),
        Some(other) => {
            let or = pick(lang, ["eller", "eller", "tai", "eller", "or"]);
            match lang {
                // "Vipps- eller MobilePay-appen": the first name keeps its hyphen.
                Lang::Nb | Lang::Da | Lang::Fi | Lang::Sv => {
                    format!("{own}- {or} {}", other.name())
                }
                Lang::En => format!("{own} {or} {}", other.name()),
            }
        }
    };
    Cow::Owned(
        template
            .replace("{brands}", &brands)
            .replace("{brand}", own),
    )
}

/// "Tid igjen 4:05": time left to approve.
pub fn time_left(lang: Lang, t: &str) -> String {
    match lang {
        Lang::Nb => format!("Tid igjen {t}"),
        Lang::Da => format!("Tid tilbage {t}"),
        Lang::Fi => format!("Aikaa jäljellä {t}"),
        Lang::Sv => format!("Tid kvar {t}"),
        Lang::En => format!("Time left {t}"),
    }
}

/// "Koden fornyes om 8:12": when the one-time QR is replaced.
pub fn renews_in(lang: Lang, t: &str) -> String {
    match lang {
        Lang::Nb => format!("Koden fornyes om {t}"),
        Lang::Da => format!("Koden fornyes om {t}"),
        Lang::Fi => format!("Koodi vaihtuu {t} kuluttua"),
        Lang::Sv => format!("Koden byts om {t}"),
        Lang::En => format!("The code renews in {t}"),
    }
}

/// "Sendt til +47 ••••••67": where a typed number's payment went (masked).
pub fn sent_to(lang: Lang, masked: &str) -> String {
    match lang {
        Lang::Nb | Lang::Da => format!("Sendt til {masked}"),
        Lang::Fi => format!("Lähetetty numeroon {masked}"),
        Lang::Sv => format!("Skickat till {masked}"),
        Lang::En => format!("Sent to {masked}"),
    }
}

/// "Nummeret skal ha 8 sifre.": a typed number of the wrong length (`n`: "8", "7–10").
pub fn wrong_length(lang: Lang, n: &str) -> String {
    match lang {
        Lang::Nb => format!("Nummeret skal ha {n} sifre."),
        Lang::Da => format!("Nummeret skal have {n} cifre."),
        Lang::Fi => format!("Numerossa pitää olla {n} numeroa."),
        Lang::Sv => format!("Numret ska ha {n} siffror."),
        Lang::En => format!("The number should have {n} digits."),
    }
}

/// "Dette er ikke et mobilnummer med +47.": a typed number that is not a mobile one.
pub fn not_mobile(lang: Lang, code: &str) -> String {
    match lang {
        Lang::Nb => format!("Dette er ikke et mobilnummer med {code}."),
        Lang::Da => format!("Det er ikke et mobilnummer med {code}."),
        Lang::Fi => format!("Tämä ei ole {code}-matkapuhelinnumero."),
        Lang::Sv => format!("Det är inte ett mobilnummer med {code}."),
        Lang::En => format!("That is not a mobile number with {code}."),
    }
}

/// "Kjøpet avbrytes om 0:45": the walk-away countdown.
pub fn ends_in(lang: Lang, t: &str) -> String {
    match lang {
        Lang::Nb => format!("Kjøpet avbrytes om {t}"),
        Lang::Da => format!("Købet annulleres om {t}"),
        Lang::Fi => format!("Ostos perutaan {t} kuluttua"),
        Lang::Sv => format!("Köpet avbryts om {t}"),
        Lang::En => format!("The purchase will be cancelled in {t}"),
    }
}

/// Title and what-to-do for a failed payment.
pub fn failure(
    reason: FailureReason,
    lang: Lang,
    branding: Branding,
) -> (Cow<'static, str>, Cow<'static, str>) {
    let (title, body): (Row, Row) = match reason {
        FailureReason::CancelledInApp => (
            [
                "Betalingen ble avbrutt i appen",
                "Betalingen blev annulleret i appen",
                "Maksu peruttiin sovelluksessa",
                "Betalningen avbröts i appen",
                "The payment was cancelled in the app",
            ],
            [
                "Du kan prøve igjen: skann koden som kommer.",
                "Du kan prøve igen: scan den nye kode.",
                "Voit yrittää uudelleen: skannaa uusi koodi.",
                "Du kan försöka igen: skanna den nya koden.",
                "You can try again: scan the code that follows.",
            ],
        ),
        FailureReason::Expired => (
            [
                "Tiden gikk ut",
                "Tiden løb ud",
                "Aika loppui",
                "Tiden gick ut",
                "Time ran out",
            ],
            [
                "Betalingen ble ikke godkjent i tide. Prøv igjen.",
                "Betalingen blev ikke godkendt i tide. Prøv igen.",
                "Maksua ei hyväksytty ajoissa. Yritä uudelleen.",
                "Betalningen godkändes inte i tid. Försök igen.",
                "The payment was not approved in time. Please try again.",
            ],
        ),
        FailureReason::Cancelled => (
            [
                "Betalingen ble stoppet",
                "Betalingen blev stoppet",
                "Maksu keskeytettiin",
                "Betalningen stoppades",
                "The payment was stopped",
            ],
            [
                "Prøv igjen, eller spør de ansatte.",
                "Prøv igen, eller spørg personalet.",
                "Yritä uudelleen tai kysy henkilökunnalta.",
                "Försök igen eller fråga personalen.",
                "Please try again, or ask staff.",
            ],
        ),
        FailureReason::NotVippsCode => (
            [
                "Koden kan ikke brukes",
                "Koden kan ikke bruges",
                "Koodia ei voi käyttää",
                "Koden kan inte användas",
                "That code cannot be used",
            ],
            [
                "Vis den personlige QR-koden fra {brands}-appen, eller skann koden på skjermen.",
                "Vis den personlige QR-kode fra {brands}-appen, eller scan koden på skærmen.",
                "Näytä henkilökohtainen QR-koodi {brands}-sovelluksesta tai skannaa näytön koodi.",
                "Visa den personliga QR-koden från {brands}-appen, eller skanna koden på skärmen.",
                "Show the personal QR code from the {brands} app, or scan the code on screen.",
            ],
        ),
        FailureReason::CustomerNotFound => (
            [
                "Vi kunne ikke sende betalingen til appen",
                "Vi kunne ikke sende betalingen til appen",
                "Maksua ei voitu lähettää sovellukseen",
                "Vi kunde inte skicka betalningen till appen",
                "We could not send the payment to your app",
            ],
            [
                "Skann koden på skjermen med appen i stedet.",
                "Scan koden på skærmen med appen i stedet.",
                "Skannaa näytön koodi sovelluksella.",
                "Skanna koden på skärmen med appen i stället.",
                "Scan the code on screen with your app instead.",
            ],
        ),
        FailureReason::PushNotAllowed => (
            [
                "Personlig QR kan ikke brukes her",
                "Personlig QR kan ikke bruges her",
                "Henkilökohtaista QR-koodia ei voi käyttää täällä",
                "Personlig QR-kod kan inte användas här",
                "Personal QR codes cannot be used here",
            ],
            [
                "Skann koden på skjermen med appen.",
                "Scan koden på skærmen med appen.",
                "Skannaa näytön koodi sovelluksella.",
                "Skanna koden på skärmen med appen.",
                "Scan the code on screen with your app.",
            ],
        ),
        FailureReason::ServiceTrouble => (
            [
                "Betalingstjenesten svarer ikke",
                "Betalingstjenesten svarer ikke",
                "Maksupalvelu ei vastaa",
                "Betaltjänsten svarar inte",
                "The payment service is not answering",
            ],
            [
                "Prøv den andre måten å betale på, eller spør de ansatte.",
                "Prøv den anden måde at betale på, eller spørg personalet.",
                "Kokeile toista maksutapaa tai kysy henkilökunnalta.",
                "Prova det andra sättet att betala eller fråga personalen.",
                "Try the other way to pay, or ask staff.",
            ],
        ),
        FailureReason::CreateRefused | FailureReason::QrUnavailable => (
            [
                "Betaling er ikke mulig her nå",
                "Betaling er ikke mulig her lige nu",
                "Maksaminen ei onnistu täällä nyt",
                "Betalning är inte möjlig här just nu",
                "Payment is not possible here right now",
            ],
            [
                "Ingenting er trukket. Bruk en annen kasse, eller spør de ansatte.",
                "Der er ikke trukket noget. Brug en anden kasse, eller spørg personalet.",
                "Mitään ei veloitettu. Käytä toista kassaa tai kysy henkilökunnalta.",
                "Ingenting har dragits. Använd en annan kassa eller fråga personalen.",
                "Nothing was charged. Please use another till, or ask staff.",
            ],
        ),
        // Neutral: Vipps never says why, and the screen never guesses at the customer's age.
        FailureReason::AgeLimit => (
            [
                "Dette kjøpet har aldersgrense",
                "Dette køb har aldersgrænse",
                "Tällä ostoksella on ikäraja",
                "Det här köpet har åldersgräns",
                "This purchase has an age limit",
            ],
            [
                "Betalingen gikk ikke gjennom. De ansatte kan hjelpe deg.",
                "Betalingen gik ikke igennem. Personalet kan hjælpe dig.",
                "Maksu ei mennyt läpi. Henkilökunta voi auttaa sinua.",
                "Betalningen gick inte igenom. Personalen kan hjälpa dig.",
                "The payment did not go through. Staff can help you.",
            ],
        ),
        FailureReason::CaptureRefused => (
            [
                "Betalingen kunne ikke fullføres",
                "Betalingen kunne ikke gennemføres",
                "Maksua ei voitu viedä loppuun",
                "Betalningen kunde inte slutföras",
                "The payment could not be completed",
            ],
            [
                "Ingenting er trukket, og reservasjonen er frigitt. Spør de ansatte.",
                "Der er ikke trukket noget, og reservationen er frigivet. Spørg personalet.",
                "Mitään ei veloitettu, ja varaus on vapautettu. Kysy henkilökunnalta.",
                "Ingenting har dragits och reservationen är släppt. Fråga personalen.",
                "Nothing was charged, and the reservation is released. Please ask staff.",
            ],
        ),
    };
    (
        fill(pick(lang, title), lang, branding),
        fill(pick(lang, body), lang, branding),
    )
}

pub fn notice(n: Notice, lang: Lang, branding: Branding) -> Cow<'static, str> {
    let row = pick(
        lang,
        match n {
            Notice::NotVippsCode => [
                "Det er ikke en {brands}-kode. Vis den personlige QR-koden fra appen.",
                "Det er ikke en {brands}-kode. Vis den personlige QR-kode fra appen.",
                "Tämä ei ole {brands}-koodi. Näytä sovelluksen henkilökohtainen QR-koodi.",
                "Det är inte en {brands}-kod. Visa den personliga QR-koden från appen.",
                "That is not a {brands} code. Show the personal QR code from your app.",
            ],
            Notice::AlreadyInProgress => [
                "En betaling venter allerede på godkjenning i appen.",
                "En betaling venter allerede på godkendelse i appen.",
                "Maksu odottaa jo hyväksyntää sovelluksessa.",
                "En betalning väntar redan på godkännande i appen.",
                "A payment is already waiting for approval in the app.",
            ],
            Notice::NoOrder => [
                "Ingenting å betale ennå.",
                "Intet at betale endnu.",
                "Ei vielä maksettavaa.",
                "Inget att betala ännu.",
                "Nothing to pay yet.",
            ],
        },
    );
    fill(row, lang, branding)
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

/// A line quantity as the customer's language writes it: "0,742" in the Nordic languages.
pub fn format_quantity(q: &str, lang: Lang) -> String {
    match lang {
        Lang::En => q.to_string(),
        Lang::Nb | Lang::Da | Lang::Fi | Lang::Sv => q.replace('.', ","),
    }
}

/// A unit's symbol after a quantity or a price ("0,742 kg", "kr 34,90/kg").
pub fn unit_symbol(unit: QuantityUnit, lang: Lang) -> &'static str {
    pick(
        lang,
        match unit {
            QuantityUnit::Pcs => ["stk.", "stk.", "kpl", "st.", "pcs"],
            QuantityUnit::Kg => ["kg", "kg", "kg", "kg", "kg"],
            QuantityUnit::Km => ["km", "km", "km", "km", "km"],
            QuantityUnit::Minute => ["min", "min.", "min", "min", "min"],
            QuantityUnit::Litre => ["l", "l", "l", "l", "l"],
            QuantityUnit::Kwh => ["kWh", "kWh", "kWh", "kWh", "kWh"],
        },
    )
}

/// What stands before a line's name: "2 ×" for pieces (nothing for one piece). Weighed and
/// measured lines say their quantity in `measured` instead.
pub fn quantity_prefix(line: &Line, lang: Lang) -> Option<String> {
    match line.unit {
        None | Some(QuantityUnit::Pcs) if line.quantity != "1" => {
            Some(format!("{} ×", format_quantity(&line.quantity, lang)))
        }
        _ => None,
    }
}

/// A weighed or measured line's quantity and price: "0,742 kg × kr 34,90/kg".
pub fn measured(line: &Line, currency: Currency, lang: Lang) -> Option<String> {
    let unit = line.unit.filter(|u| *u != QuantityUnit::Pcs)?;
    let symbol = unit_symbol(unit, lang);
    Some(format!(
        "{}\u{a0}{symbol} × {}/{symbol}",
        format_quantity(&line.quantity, lang),
        format_amount(Amount::new(currency, line.unit_price))
    ))
}

/// A line's discount: "Rabatt −kr 5,00".
pub fn discount(line: &Line, currency: Currency, lang: Lang) -> Option<String> {
    let d = line.discount()?;
    Some(format!(
        "{} −{}",
        Text::Discount.get(lang),
        format_amount(Amount::new(currency, d))
    ))
}

/// An amount as it is said: "353 kroner og 50 øre", "12 euroa ja 5 senttiä".
pub fn spoken_amount(a: Amount, lang: Lang) -> String {
    let v = a.value.unsigned_abs();
    let (major, minor) = (v / 100, v % 100);
    // [one, many] of the main unit and of the hundredth, and the word for "and".
    let (main, part): ([&str; 2], [&str; 2]) = match (a.currency, lang) {
        (Currency::Nok | Currency::Dkk, Lang::Nb | Lang::Da) => {
            (["krone", "kroner"], ["øre", "øre"])
        }
        (Currency::Nok | Currency::Dkk, Lang::Sv) => (["krona", "kronor"], ["öre", "öre"]),
        (Currency::Nok | Currency::Dkk, Lang::Fi) => (["kruunu", "kruunua"], ["äyri", "äyriä"]),
        (Currency::Nok | Currency::Dkk, Lang::En) => (["krone", "kroner"], ["øre", "øre"]),
        (Currency::Eur, Lang::Fi) => (["euro", "euroa"], ["sentti", "senttiä"]),
        (Currency::Eur, Lang::En) => (["euro", "euros"], ["cent", "cents"]),
        (Currency::Eur, Lang::Nb | Lang::Da | Lang::Sv) => (["euro", "euro"], ["cent", "cent"]),
    };
    let and = pick(lang, ["og", "og", "ja", "och", "and"]);
    let word = |n: u64, w: [&str; 2]| format!("{n} {}", if n == 1 { w[0] } else { w[1] });
    match (major, minor) {
        (_, 0) => word(major, main),
        (0, _) => word(minor, part),
        _ => format!("{} {and} {}", word(major, main), word(minor, part)),
    }
}

/// A time as it is said inside `ends_in`: "1 minutt", "45 sekunder" (Finnish: "45 sekunnin",
/// as "… kuluttua" wants it).
pub fn spoken_time(secs: u64, lang: Lang) -> String {
    let (n, unit): (u64, [&str; 2]) = if secs >= 60 && secs.is_multiple_of(60) {
        (
            secs / 60,
            match lang {
                Lang::Nb => ["minutt", "minutter"],
                Lang::Da => ["minut", "minutter"],
                Lang::Fi => ["minuutin", "minuutin"],
                Lang::Sv => ["minut", "minuter"],
                Lang::En => ["minute", "minutes"],
            },
        )
    } else {
        (
            secs,
            match lang {
                Lang::Nb | Lang::Da | Lang::Sv => ["sekund", "sekunder"],
                Lang::Fi => ["sekunnin", "sekunnin"],
                Lang::En => ["second", "seconds"],
            },
        )
    };
    format!("{n} {}", if n == 1 { unit[0] } else { unit[1] })
}

/// The default payment text in `lang`, with the store's name or without.
pub fn payment_description(lang: Lang, with_store: bool) -> &'static str {
    if with_store {
        Text::PaymentDescription.get(lang)
    } else {
        Text::PaymentDescriptionNoStore.get(lang)
    }
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
    fn countdown_and_quantities_read_naturally() {
        assert_eq!(format_countdown(245), "4:05");
        assert_eq!(format_countdown(9), "0:09");
        assert_eq!(format_quantity("0.742", Lang::Fi), "0,742");
        assert_eq!(format_quantity("0.742", Lang::En), "0.742");
    }

    #[test]
    fn every_string_is_translated_and_differs_where_it_should() {
        for t in Text::ALL {
            for lang in Lang::ALL {
                assert!(!t.get(lang).trim().is_empty(), "{t:?} in {lang:?}");
            }
        }
        // A copy-paste of English into another column shows up here.
        let english_copies = Text::ALL
            .iter()
            .filter(|t| !matches!(t, Text::Ok))
            .filter(|t| t.get(Lang::Fi) == t.get(Lang::En))
            .count();
        assert_eq!(english_copies, 0);
    }

    #[test]
    fn language_names_are_their_own() {
        let names: Vec<_> = Lang::ALL.iter().map(|l| l.own_name()).collect();
        assert_eq!(names, ["Norsk", "Dansk", "Suomi", "Svenska", "English"]);
    }
}
