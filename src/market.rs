//! Where the lane sells: the market (which decides currency and the lane's default language)
//! and the customer's languages. Both the configuration and the screens use these.

use crate::vipps::model::Currency;
use serde::Deserialize;

/// The market decides the brand (Vipps or MobilePay) and the currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Market {
    #[serde(rename = "NO")]
    Norway,
    #[serde(rename = "DK")]
    Denmark,
    #[serde(rename = "FI")]
    Finland,
}

impl Market {
    pub fn currency(self) -> Currency {
        match self {
            Market::Norway => Currency::Nok,
            Market::Denmark => Currency::Dkk,
            Market::Finland => Currency::Eur,
        }
    }
}

/// The customer's languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Lang {
    /// Norwegian bokmål.
    #[serde(rename = "nb")]
    Nb,
    #[serde(rename = "da")]
    Da,
    #[serde(rename = "fi")]
    Fi,
    #[serde(rename = "sv")]
    Sv,
    #[serde(rename = "en")]
    En,
}

impl Market {
    /// The lane's language unless the configuration names another.
    pub fn language(self) -> Lang {
        match self {
            Market::Norway => Lang::Nb,
            Market::Denmark => Lang::Da,
            Market::Finland => Lang::Fi,
        }
    }
}

impl Lang {
    pub const ALL: [Lang; 5] = [Lang::Nb, Lang::Da, Lang::Fi, Lang::Sv, Lang::En];

    /// The position of the language in `ALL` (and in every row of translations).
    pub fn index(self) -> usize {
        match self {
            Lang::Nb => 0,
            Lang::Da => 1,
            Lang::Fi => 2,
            Lang::Sv => 3,
            Lang::En => 4,
        }
    }

    /// The language's own name, for the language switch (no flags).
    pub fn own_name(self) -> &'static str {
        ["Norsk", "Dansk", "Suomi", "Svenska", "English"][self.index()]
    }

    pub fn code(self) -> &'static str {
        ["nb", "da", "fi", "sv", "en"][self.index()]
    }
}
