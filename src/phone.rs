//! Customers' phone numbers, as typed on the keypad or handed over by the POS: each Nordic
//! country's rules checked before anything is sent, and the number never shown in logs or
//! Debug output. Vipps takes it as `customer.phoneNumber`: country code and number, digits only.

use std::fmt;

/// The country codes the keypad offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CountryCode {
    /// +47
    Norway,
    /// +45
    Denmark,
    /// +358
    Finland,
    /// +46
    Sweden,
}

impl CountryCode {
    pub const ALL: [CountryCode; 4] = [
        CountryCode::Norway,
        CountryCode::Denmark,
        CountryCode::Finland,
        CountryCode::Sweden,
    ];

    /// The digits of the code, without `+`.
    pub fn digits(self) -> &'static str {
        match self {
            CountryCode::Norway => "47",
            CountryCode::Denmark => "45",
            CountryCode::Finland => "358",
            CountryCode::Sweden => "46",
        }
    }

    /// How long a number is after the code, and what it may start with (mobile numbers).
    fn rules(self) -> (std::ops::RangeInclusive<usize>, &'static [&'static str]) {
        match self {
            // 8 digits; mobile numbers begin with 4 or 9.
            CountryCode::Norway => (8..=8, &["4", "9"]),
            // 8 digits, no leading 0 or 1.
            CountryCode::Denmark => (8..=8, &["2", "3", "4", "5", "6", "7", "8", "9"]),
            // 040 123 4567 is 40 123 4567 after the code: mobile numbers begin 4 or 50.
            CountryCode::Finland => (7..=10, &["4", "50"]),
            // 070 123 45 67 is 70 123 45 67: mobile numbers begin with 7.
            CountryCode::Sweden => (9..=9, &["7"]),
        }
    }

    /// How many digits a mobile number has after the code (for the keypad's hint).
    pub fn lengths(self) -> std::ops::RangeInclusive<usize> {
        self.rules().0
    }

    /// The country whose code leads `msisdn`, if any of the four does.
    fn of(msisdn: &str) -> Option<CountryCode> {
        // "358" before "35…" could be confused with nothing else here, but check it first.
        [
            CountryCode::Finland,
            CountryCode::Norway,
            CountryCode::Denmark,
            CountryCode::Sweden,
        ]
        .into_iter()
        .find(|c| msisdn.starts_with(c.digits()))
    }
}

/// Why a number cannot be a customer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("only digits")]
    NotDigits,
    #[error("the number has the wrong length for its country")]
    Length,
    #[error("not a mobile number of its country")]
    NotMobile,
    #[error("not a Norwegian, Danish, Finnish or Swedish number")]
    Country,
}

/// A customer's phone number, checked. Identifies a person: never printed in clear.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    country: CountryCode,
    /// The number after the country code.
    national: String,
}

impl PhoneNumber {
    /// A number typed after `country`'s code (a leading 0, as people write it at home, is
    /// dropped).
    pub fn new(country: CountryCode, typed: &str) -> Result<PhoneNumber, PhoneError> {
        let digits: String = typed.chars().filter(|c| *c != ' ').collect();
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(PhoneError::NotDigits);
        }
        let national = digits.strip_prefix('0').unwrap_or(&digits).to_string();
        let (length, starts) = country.rules();
        if !length.contains(&national.len()) {
            return Err(PhoneError::Length);
        }
        if !starts.iter().any(|s| national.starts_with(s)) {
            return Err(PhoneError::NotMobile);
        }
        Ok(PhoneNumber { country, national })
    }

    /// A number as the POS or Vipps writes it: country code and number, digits only.
    pub fn from_msisdn(msisdn: &str) -> Result<PhoneNumber, PhoneError> {
        if msisdn.is_empty() || !msisdn.chars().all(|c| c.is_ascii_digit()) {
            return Err(PhoneError::NotDigits);
        }
        let country = CountryCode::of(msisdn).ok_or(PhoneError::Country)?;
        PhoneNumber::new(country, &msisdn[country.digits().len()..])
    }

    pub fn country(&self) -> CountryCode {
        self.country
    }

    /// Country code and number, digits only, as `customer.phoneNumber` takes it.
    pub fn msisdn(&self) -> String {
        format!("{}{}", self.country.digits(), self.national)
    }

    /// For the screen once sent: the country code and the last two digits.
    pub fn masked(&self) -> String {
        let tail = &self.national[self.national.len().saturating_sub(2)..];
        format!(
            "+{} {}{tail}",
            self.country.digits(),
            "•".repeat(self.national.len().saturating_sub(2))
        )
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PhoneNumber({})",
            crate::redact::fingerprint(&self.msisdn())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_countrys_rules() {
        let ok = [
            (CountryCode::Norway, "41234567", "4741234567"),
            (CountryCode::Norway, "912 34 567", "4791234567"),
            (CountryCode::Denmark, "20123456", "4520123456"),
            (CountryCode::Finland, "0401234567", "358401234567"),
            (CountryCode::Finland, "501234567", "358501234567"),
            (CountryCode::Sweden, "0701234567", "46701234567"),
        ];
        for (country, typed, msisdn) in ok {
            let n = PhoneNumber::new(country, typed).expect(typed);
            assert_eq!(n.msisdn(), msisdn);
            assert_eq!(PhoneNumber::from_msisdn(msisdn), Ok(n));
        }
        let bad = [
            (CountryCode::Norway, "2123456", PhoneError::Length),
            (CountryCode::Norway, "21234567", PhoneError::NotMobile),
            (CountryCode::Denmark, "10123456", PhoneError::NotMobile),
            (CountryCode::Finland, "601234567", PhoneError::NotMobile),
            (CountryCode::Sweden, "0801234567", PhoneError::NotMobile),
            (CountryCode::Norway, "4123456a", PhoneError::NotDigits),
            (CountryCode::Norway, "", PhoneError::NotDigits),
        ];
        for (country, typed, e) in bad {
            assert_eq!(PhoneNumber::new(country, typed), Err(e), "{typed}");
        }
        assert_eq!(
            PhoneNumber::from_msisdn("4412345678"),
            Err(PhoneError::Country)
        );
        assert_eq!(
            PhoneNumber::from_msisdn("+4741234567"),
            Err(PhoneError::NotDigits)
        );
    }

    #[test]
    fn numbers_do_not_print_and_are_masked_once_sent() {
        let n = PhoneNumber::new(CountryCode::Norway, "41234567").expect("valid");
        assert!(!format!("{n:?}").contains("1234567"));
        assert_eq!(n.masked(), "+47 ••••••67");
    }
}
