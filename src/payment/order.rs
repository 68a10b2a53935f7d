//! The order the POS hands over: lines, total and receipt data, in integer minor units.

use crate::vipps::model::{self, Amount, Currency};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub id: String,
    pub name: String,
    /// A decimal number as text, as the Vipps receipt wants it: "2", "0.452".
    pub quantity: String,
    /// Unit price in minor units, tax included.
    pub unit_price: i64,
    pub total_amount: i64,
    pub total_amount_excluding_tax: i64,
    pub total_tax_amount: i64,
    /// Hundredths of a percent: 2500 = 25 %.
    pub tax_rate: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    pub currency: Currency,
    pub lines: Vec<Line>,
    pub total_amount: i64,
    #[serde(default)]
    pub receipt_number: Option<String>,
    #[serde(default)]
    pub pos_id: Option<String>,
}

/// Why an order cannot be paid as it stands. `field` names the offending field, JSON-style.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct OrderError {
    pub field: String,
    pub reason: String,
}

fn err(field: impl Into<String>, reason: impl Into<String>) -> OrderError {
    OrderError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Longest line name the Vipps receipt shows well.
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_LINES: usize = 500;

impl Order {
    pub fn total(&self) -> Amount {
        Amount::new(self.currency, self.total_amount)
    }

    /// Checks everything the kiosk relies on: id format, totals that add up, tax that matches
    /// its rate (to within one minor unit of rounding), positive amounts, the market's currency.
    pub fn validate(&self, market_currency: Currency) -> Result<(), OrderError> {
        let id_ok = (8..=58).contains(&self.order_id.len())
            && self
                .order_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !id_ok {
            return Err(err(
                "orderId",
                "must be 8-58 characters of a-z, A-Z, 0-9 and -",
            ));
        }
        if self.currency != market_currency {
            return Err(err(
                "currency",
                format!("this lane takes {market_currency}, not {}", self.currency),
            ));
        }
        if self.lines.is_empty() {
            return Err(err("lines", "an order needs at least one line"));
        }
        if self.lines.len() > MAX_LINES {
            return Err(err("lines", format!("at most {MAX_LINES} lines")));
        }
        let mut sum: i64 = 0;
        for (i, l) in self.lines.iter().enumerate() {
            let f = |name: &str| format!("lines[{i}].{name}");
            if l.name.trim().is_empty() || l.name.chars().count() > MAX_NAME_CHARS {
                return Err(err(f("name"), format!("1-{MAX_NAME_CHARS} characters")));
            }
            if l.id.trim().is_empty() {
                return Err(err(f("id"), "must not be empty"));
            }
            if !valid_quantity(&l.quantity) {
                return Err(err(
                    f("quantity"),
                    "a positive decimal number of at most 10 characters",
                ));
            }
            if l.unit_price <= 0 || l.total_amount <= 0 {
                return Err(err(f("totalAmount"), "amounts must be positive"));
            }
            if l.total_amount_excluding_tax < 0 || l.total_tax_amount < 0 {
                return Err(err(f("totalTaxAmount"), "amounts must not be negative"));
            }
            if l.total_amount_excluding_tax.checked_add(l.total_tax_amount) != Some(l.total_amount)
            {
                return Err(err(
                    f("totalAmount"),
                    "must equal totalAmountExcludingTax + totalTaxAmount",
                ));
            }
            if l.tax_rate > 10_000 {
                return Err(err(f("taxRate"), "0-10000 (hundredths of a percent)"));
            }
            let expected_tax = (i128::from(l.total_amount_excluding_tax) * i128::from(l.tax_rate)
                + 5_000)
                / 10_000;
            if (expected_tax - i128::from(l.total_tax_amount)).abs() > 1 {
                return Err(err(
                    f("totalTaxAmount"),
                    format!(
                        "does not match taxRate {} (expected about {expected_tax})",
                        l.tax_rate
                    ),
                ));
            }
            sum = sum
                .checked_add(l.total_amount)
                .ok_or_else(|| err("totalAmount", "too large"))?;
        }
        if sum != self.total_amount {
            return Err(err(
                "totalAmount",
                format!("is {} but the lines add up to {sum}", self.total_amount),
            ));
        }
        if self.total_amount < self.currency.minimum_amount() || self.total_amount > 65_000_000 {
            return Err(err("totalAmount", "outside what Vipps MobilePay accepts"));
        }
        Ok(())
    }

    /// The order lines as the Vipps receipt.
    pub fn receipt(&self) -> model::Receipt {
        model::Receipt {
            order_lines: self
                .lines
                .iter()
                .map(|l| model::OrderLine {
                    name: l.name.clone(),
                    id: l.id.clone(),
                    total_amount: l.total_amount,
                    total_amount_excluding_tax: l.total_amount_excluding_tax,
                    total_tax_amount: l.total_tax_amount,
                    tax_rate: Some(l.tax_rate),
                    unit_info: Some(model::UnitInfo {
                        unit_price: l.unit_price,
                        quantity: l.quantity.clone(),
                        quantity_unit: None,
                    }),
                    discount: None,
                })
                .collect(),
            bottom_line: model::BottomLine {
                currency: self.currency,
                pos_id: self.pos_id.clone(),
                receipt_number: self.receipt_number.clone(),
            },
        }
    }
}

fn valid_quantity(q: &str) -> bool {
    if q.is_empty() || q.len() > 10 {
        return false;
    }
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    !int.is_empty()
        && digits(int)
        && digits(frac)
        && frac.len() <= 8
        && q.contains('.') != frac.is_empty()
        && q.chars().any(|c| c.is_ascii_digit() && c != '0')
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn line(name: &str, qty: &str, unit: i64) -> Line {
        let q: i64 = qty.parse().unwrap_or(1);
        let total = unit * q;
        let excl = (total * 10_000 + 12_500 / 2) / 12_500;
        Line {
            id: name.to_lowercase().replace(' ', "-"),
            name: name.into(),
            quantity: qty.into(),
            unit_price: unit,
            total_amount: total,
            total_amount_excluding_tax: excl,
            total_tax_amount: total - excl,
            tax_rate: 2500,
        }
    }

    pub fn order(id: &str) -> Order {
        let lines = vec![line("Coffee beans", "2", 8900), line("Oat milk", "1", 3450)];
        Order {
            order_id: id.into(),
            currency: Currency::Nok,
            total_amount: lines.iter().map(|l| l.total_amount).sum(),
            lines,
            receipt_number: Some("R-1001".into()),
            pos_id: Some("lane-1".into()),
        }
    }

    #[test]
    fn amounts_that_overflow_are_refused_not_a_panic() {
        let mut o = order("order-0001");
        o.lines[0].total_amount_excluding_tax = i64::MAX;
        o.lines[0].total_tax_amount = 1;
        let e = o.validate(Currency::Nok).expect_err("refused");
        assert_eq!(e.field, "lines[0].totalAmount");
    }

    #[test]
    fn a_consistent_order_validates() {
        assert_eq!(order("order-0001").validate(Currency::Nok), Ok(()));
    }

    #[test]
    fn inconsistent_orders_name_the_field() {
        let mut o = order("order-0001");
        o.total_amount += 1;
        assert_eq!(
            o.validate(Currency::Nok).map_err(|e| e.field),
            Err("totalAmount".into())
        );
        let o = order("order-0001");
        assert_eq!(
            o.validate(Currency::Dkk).map_err(|e| e.field),
            Err("currency".into())
        );
        let mut o = order("short");
        o.order_id = "short".into();
        assert_eq!(
            o.validate(Currency::Nok).map_err(|e| e.field),
            Err("orderId".into())
        );
        let mut o = order("order-0001");
        o.lines[1].total_tax_amount += 50;
        o.lines[1].total_amount += 50;
        o.total_amount += 50;
        assert_eq!(
            o.validate(Currency::Nok).map_err(|e| e.field),
            Err("lines[1].totalTaxAmount".into())
        );
        let mut o = order("order-0001");
        o.lines[0].quantity = "-2".into();
        assert_eq!(
            o.validate(Currency::Nok).map_err(|e| e.field),
            Err("lines[0].quantity".into())
        );
    }

    #[test]
    fn quantities_follow_the_receipt_pattern() {
        for ok in ["1", "2", "0.452", "12.5"] {
            assert!(valid_quantity(ok), "{ok}");
        }
        for bad in [
            "",
            "0",
            "1.",
            ".5",
            "1,5",
            "-1",
            "12345678901",
            "1.123456789",
        ] {
            assert!(!valid_quantity(bad), "{bad}");
        }
    }

    #[test]
    fn receipt_carries_lines_and_bottom_line() {
        let r = order("order-0001").receipt();
        assert_eq!(r.order_lines.len(), 2);
        assert_eq!(
            r.order_lines[0]
                .unit_info
                .as_ref()
                .map(|u| u.quantity.as_str()),
            Some("2")
        );
        assert_eq!(r.bottom_line.receipt_number.as_deref(), Some("R-1001"));
    }
}
