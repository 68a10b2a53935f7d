//! Where the lane sells: the market (which decides currency, brand and the lane's default
//! language), the brand and the date it changes, and the customer's languages. The
//! configuration, the screens, `check` and the POS API's health use these.

use crate::vipps::model::Currency;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, UtcOffset, macros::date};

/// The market decides the brand (Vipps or MobilePay, see `Market::branding`) and the currency.
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

/// The app's name on the screens: Vipps, or MobilePay in Denmark and Finland until the brand
/// date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Brand {
    Vipps,
    MobilePay,
}

impl Brand {
    /// The name as Vipps MobilePay's text guidelines write it (never in capitals).
    pub fn name(self) -> &'static str {
        match self {
            Brand::Vipps => "Vipps",
            Brand::MobilePay => "MobilePay",
        }
    }

    fn other(self) -> Brand {
        match self {
            Brand::Vipps => Brand::MobilePay,
            Brand::MobilePay => Brand::Vipps,
        }
    }
}

/// The `brand` key: `auto` follows the market and the date; the others fix it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrandChoice {
    #[default]
    Auto,
    Vipps,
    MobilePay,
}

/// MobilePay becomes Vipps in Denmark and Finland on this day (Vipps MobilePay's technical
/// update of October 2026). The one place the date is kept.
pub const VIPPS_EVERYWHERE_FROM: Date = date!(2027 - 01 - 12);

/// The brands a lane names: its own, and (while both exist) the other one, which a customer's
/// app may still carry. Where both are named, the lane's own comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Branding {
    pub brand: Brand,
    pub also: Option<Brand>,
}

impl Market {
    /// The lane's brand on `today` (the lane's local date, see `Market::today`).
    pub fn branding(self, choice: BrandChoice, today: Date) -> Branding {
        let merged = today >= VIPPS_EVERYWHERE_FROM;
        let brand = match (choice, self) {
            (BrandChoice::Vipps, _) => Brand::Vipps,
            (BrandChoice::MobilePay, _) => Brand::MobilePay,
            (BrandChoice::Auto, Market::Norway) => Brand::Vipps,
            (BrandChoice::Auto, Market::Denmark | Market::Finland) if merged => Brand::Vipps,
            (BrandChoice::Auto, Market::Denmark | Market::Finland) => Brand::MobilePay,
        };
        // After the brand date there is no MobilePay app left to name beside Vipps.
        let also = (!merged || brand == Brand::MobilePay).then(|| brand.other());
        Branding { brand, also }
    }

    /// The date at the lane: the market's standard time (UTC+1, Finland UTC+2), which is what
    /// the clocks show in January, when the brand changes.
    pub fn today(self, now: OffsetDateTime) -> Date {
        let hours = match self {
            Market::Norway | Market::Denmark => 1,
            Market::Finland => 2,
        };
        let offset = UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC);
        now.to_offset(offset).date()
    }
}

/// Where a lane's date comes from: the clock, or a fixed day (tests, and trying a lane before
/// and after the brand date with `[demo] today`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Today {
    #[default]
    Clock,
    Fixed(Date),
}

impl Today {
    pub fn date(self, market: Market) -> Date {
        match self {
            Today::Clock => market.today(OffsetDateTime::now_utc()),
            Today::Fixed(d) => d,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denmark_and_finland_become_vipps_on_the_brand_date() {
        let before = date!(2027 - 01 - 11);
        for m in [Market::Denmark, Market::Finland] {
            assert_eq!(
                m.branding(BrandChoice::Auto, before),
                Branding {
                    brand: Brand::MobilePay,
                    also: Some(Brand::Vipps)
                }
            );
            assert_eq!(
                m.branding(BrandChoice::Auto, VIPPS_EVERYWHERE_FROM),
                Branding {
                    brand: Brand::Vipps,
                    also: None
                }
            );
        }
        assert_eq!(
            Market::Norway.branding(BrandChoice::Auto, before),
            Branding {
                brand: Brand::Vipps,
                also: Some(Brand::MobilePay)
            }
        );
    }

    #[test]
    fn a_fixed_brand_ignores_the_date() {
        let after = date!(2027 - 03 - 01);
        assert_eq!(
            Market::Denmark
                .branding(BrandChoice::MobilePay, after)
                .brand,
            Brand::MobilePay
        );
        assert_eq!(
            Market::Finland
                .branding(BrandChoice::Vipps, date!(2026 - 06 - 01))
                .brand,
            Brand::Vipps
        );
    }

    #[test]
    fn the_lane_date_is_the_markets_own() {
        // 23:30 UTC on 11 January is already the 12th in Copenhagen and Helsinki.
        let late = time::macros::datetime!(2027-01-11 23:30 UTC);
        assert_eq!(Market::Denmark.today(late), VIPPS_EVERYWHERE_FROM);
        let early = time::macros::datetime!(2027-01-11 22:30 UTC);
        assert_eq!(Market::Denmark.today(early), date!(2027 - 01 - 11));
        assert_eq!(Market::Finland.today(early), VIPPS_EVERYWHERE_FROM);
    }
}
