//! The order the POS hands over: lines (weighed and measured ones with their unit, discounts
//! as the ePayment receipt defines them), total and receipt data, in integer minor units.

use crate::vipps::model::{self, Amount, Currency, QuantityUnit};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub id: String,
    pub name: String,
    /// A decimal number as text, as the Vipps receipt wants it: "2", "0.452".
    pub quantity: String,
    /// What the quantity counts (the receipt's `quantityUnit`: PCS, KG, KM, MINUTE, LITRE,
    /// KWH). None: pieces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<QuantityUnit>,
    /// Price per unit in minor units, tax included, discount not taken off.
    pub unit_price: i64,
    /// The line's whole discount in minor units (≥ 0). As on the Vipps receipt, it is already
    /// taken off `totalAmount`: `totalAmount = unitPrice × quantity − discount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<i64>,
    /// What the customer pays for the line: tax included, discount taken off.
    pub total_amount: i64,
    pub total_amount_excluding_tax: i64,
    pub total_tax_amount: i64,
    /// Hundredths of a percent: 2500 = 25 %.
    pub tax_rate: u32,
    /// The age (whole years, 0-100) a customer must have reached to buy this line: beer,
    /// tobacco. The payment then carries the largest of the lines as `minimumUserAge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_age: Option<u16>,
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

impl Line {
    /// `unitPrice × quantity`, rounded to the nearest minor unit: the line before its discount.
    pub fn gross(&self) -> Option<i64> {
        let (units, scale) = decimal(&self.quantity)?;
        let p = 10i128.checked_pow(scale)?;
        let gross = (i128::from(self.unit_price) * units * 2 + p) / (2 * p);
        i64::try_from(gross).ok()
    }

    /// The discount, if there is one.
    pub fn discount(&self) -> Option<i64> {
        self.discount.filter(|&d| d > 0)
    }

    /// Everything about one line: `f` names its fields (`lines[2].quantity`).
    fn check(&self, f: &dyn Fn(&str) -> String) -> Result<(), OrderError> {
        if self.name.trim().is_empty() || self.name.chars().count() > MAX_NAME_CHARS {
            return Err(err(f("name"), format!("1-{MAX_NAME_CHARS} characters")));
        }
        if self.id.trim().is_empty() {
            return Err(err(f("id"), "must not be empty"));
        }
        if !valid_quantity(&self.quantity) {
            return Err(err(
                f("quantity"),
                "a positive decimal number of at most 10 characters",
            ));
        }
        if self.unit == Some(QuantityUnit::Pcs) && self.quantity.contains('.') {
            return Err(err(f("quantity"), "whole pieces with unit PCS"));
        }
        if self.unit_price <= 0 {
            return Err(err(f("unitPrice"), "must be positive"));
        }
        if self.total_amount <= 0 {
            return Err(err(f("totalAmount"), "amounts must be positive"));
        }
        if self.total_amount_excluding_tax < 0 || self.total_tax_amount < 0 {
            return Err(err(f("totalTaxAmount"), "amounts must not be negative"));
        }
        if self
            .total_amount_excluding_tax
            .checked_add(self.total_tax_amount)
            != Some(self.total_amount)
        {
            return Err(err(
                f("totalAmount"),
                "must equal totalAmountExcludingTax + totalTaxAmount",
            ));
        }
        if self.tax_rate > 10_000 {
            return Err(err(f("taxRate"), "0-10000 (hundredths of a percent)"));
        }
        let expected_tax =
            (i128::from(self.total_amount_excluding_tax) * i128::from(self.tax_rate) + 5_000)
                / 10_000;
        if (expected_tax - i128::from(self.total_tax_amount)).abs() > 1 {
            return Err(err(
                f("totalTaxAmount"),
                format!(
                    "does not match taxRate {} (expected about {expected_tax})",
                    self.tax_rate
                ),
            ));
        }
        if self.minimum_age.is_some_and(|a| a > MAX_MINIMUM_AGE) {
            return Err(err(
                f("minimumAge"),
                format!("whole years, 0-{MAX_MINIMUM_AGE}"),
            ));
        }
        self.check_price(f)
    }

    /// A non-negative discount, and a total that is the unit price times the quantity less
    /// the discount (to within a minor unit of rounding), as the receipt defines them.
    fn check_price(&self, f: &dyn Fn(&str) -> String) -> Result<(), OrderError> {
        let discount = self.discount.unwrap_or(0);
        let gross = self
            .gross()
            .ok_or_else(|| err(f("unitPrice"), "too large"))?;
        if discount < 0 {
            return Err(err(f("discount"), "must not be negative"));
        }
        if discount > gross {
            return Err(err(
                f("discount"),
                format!("{discount} is more than the line's {gross} before discount"),
            ));
        }
        let expected = gross - discount;
        if (expected - self.total_amount).abs() > 1 {
            return Err(err(
                f("totalAmount"),
                format!(
                    "is {} but unitPrice × quantity − discount is {expected}",
                    self.total_amount
                ),
            ));
        }
        Ok(())
    }
}

/// A valid quantity as an integer and its number of decimals: "0.742" is (742, 3).
fn decimal(q: &str) -> Option<(i128, u32)> {
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    let digits = format!("{int}{frac}").parse::<i128>().ok()?;
    Some((digits, u32::try_from(frac.len()).ok()?))
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
/// The largest `minimumAge` of a line (ePayment's `minimumUserAge` is 0-100).
pub const MAX_MINIMUM_AGE: u16 = 100;
/// `paymentDescription`: 3-100 characters (ePayment's create request).
pub const DESCRIPTION_MIN_CHARS: usize = 3;
pub const DESCRIPTION_MAX_CHARS: usize = 100;
/// Where a payment description's template takes the receipt number.
pub const RECEIPT_PLACEHOLDER: &str = "{receipt}";

impl Order {
    pub fn total(&self) -> Amount {
        Amount::new(self.currency, self.total_amount)
    }

    /// The age the customer must have reached to buy the whole order: the largest of its
    /// lines' (`None` when no line has one above 0).
    pub fn minimum_age(&self) -> Option<u16> {
        self.lines
            .iter()
            .filter_map(|l| l.minimum_age)
            .max()
            .filter(|&a| a > 0)
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
            l.check(&f)?;
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

    /// The payment's text, as the app, the portal and the settlement files show it: `template`
    /// with `{receipt}` replaced by the receipt number (the order id when the POS sent none),
    /// cut to Vipps' 100 characters.
    pub fn description(&self, template: &str) -> String {
        let receipt = self.receipt_number.as_deref().unwrap_or(&self.order_id);
        let text = template.replace(RECEIPT_PLACEHOLDER, receipt);
        let text = text.trim();
        if text.chars().count() < DESCRIPTION_MIN_CHARS {
            return format!("{text} {receipt}").trim().to_string();
        }
        text.chars().take(DESCRIPTION_MAX_CHARS).collect()
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
                        quantity_unit: l.unit,
                    }),
                    discount: l.discount,
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
            unit: None,
            unit_price: unit,
            discount: None,
            total_amount: total,
            total_amount_excluding_tax: excl,
            total_tax_amount: total - excl,
            tax_rate: 2500,
            minimum_age: None,
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

    /// Apples by weight with a discount: 0,742 kg × kr 34,90/kg = 25,90, less 5,00.
    pub fn weighed(name: &str) -> Line {
        Line {
            quantity: "0.742".into(),
            unit: Some(QuantityUnit::Kg),
            unit_price: 3490,
            discount: Some(500),
            total_amount: 2090,
            total_amount_excluding_tax: 1817,
            total_tax_amount: 273,
            tax_rate: 1500,
            ..line(name, "1", 3490)
        }
    }

    #[test]
    fn weighed_and_discounted_lines_validate_and_reach_the_receipt() {
        let mut o = order("order-0001");
        o.lines.push(weighed("Epler"));
        o.total_amount = o.lines.iter().map(|l| l.total_amount).sum();
        assert_eq!(o.validate(Currency::Nok), Ok(()));
        assert_eq!(o.lines[2].gross(), Some(2590));
        let r = o.receipt();
        let apples = &r.order_lines[2];
        assert_eq!(apples.discount, Some(500));
        let u = apples.unit_info.as_ref().expect("unit info");
        assert_eq!(
            (u.unit_price, u.quantity.as_str(), u.quantity_unit),
            (3490, "0.742", Some(QuantityUnit::Kg))
        );
        let json = serde_json::to_value(apples).expect("json");
        assert_eq!(json["unitInfo"]["quantityUnit"], "KG");
        assert_eq!(json["discount"], 500);
    }

    #[test]
    fn units_prices_and_discounts_are_checked_naming_the_field() {
        let field = |f: &dyn Fn(&mut Line)| {
            let mut o = order("order-0001");
            f(&mut o.lines[0]);
            o.total_amount = o.lines.iter().map(|l| l.total_amount).sum();
            o.validate(Currency::Nok).map_err(|e| e.field)
        };
        assert_eq!(
            field(&|l| l.discount = Some(-1)),
            Err("lines[0].discount".into())
        );
        assert_eq!(
            field(&|l| l.discount = Some(l.total_amount + 1)),
            Err("lines[0].discount".into())
        );
        // A discount that the total does not reflect.
        assert_eq!(
            field(&|l| l.discount = Some(100)),
            Err("lines[0].totalAmount".into())
        );
        assert_eq!(
            field(&|l| l.unit_price = 0),
            Err("lines[0].unitPrice".into())
        );
        assert_eq!(
            field(&|l| l.unit_price += 50),
            Err("lines[0].totalAmount".into())
        );
        assert_eq!(
            field(&|l| {
                l.unit = Some(QuantityUnit::Pcs);
                l.quantity = "1.5".into();
            }),
            Err("lines[0].quantity".into())
        );
        // Rounding of a weighed price by one minor unit either way is the POS's to choose.
        let mut o = order("order-0001");
        o.lines = vec![weighed("Epler")];
        o.lines[0].total_amount += 1;
        o.lines[0].total_amount_excluding_tax += 1;
        o.total_amount = o.lines[0].total_amount;
        assert_eq!(o.validate(Currency::Nok), Ok(()));
    }

    #[test]
    fn the_description_carries_the_receipt_number_within_vipps_limits() {
        let mut o = order("order-0001");
        assert_eq!(
            o.description("Kiwi, kvittering {receipt}"),
            "Kiwi, kvittering R-1001"
        );
        o.receipt_number = None;
        assert_eq!(o.description("Kjøp {receipt}"), "Kjøp order-0001");
        assert_eq!(o.description("Kjøp"), "Kjøp");
        let long = format!("{} {{receipt}}", "x".repeat(98));
        assert_eq!(o.description(&long).chars().count(), DESCRIPTION_MAX_CHARS);
        assert!(o.description("").chars().count() >= DESCRIPTION_MIN_CHARS);
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
    fn an_age_limit_is_whole_years_up_to_100_and_the_largest_line_counts() {
        let mut o = order("order-0001");
        assert_eq!(o.minimum_age(), None);
        o.lines[0].minimum_age = Some(0);
        assert_eq!(o.minimum_age(), None, "0 is no limit");
        o.lines[0].minimum_age = Some(18);
        o.lines[1].minimum_age = Some(20);
        assert_eq!(o.validate(Currency::Nok), Ok(()));
        assert_eq!(o.minimum_age(), Some(20));
        o.lines[1].minimum_age = Some(101);
        assert_eq!(
            o.validate(Currency::Nok).map_err(|e| e.field),
            Err("lines[1].minimumAge".into())
        );
        // As the POS sends it, and refused when it is not whole years.
        let mut json = serde_json::to_value(order("order-0001")).expect("json");
        json["lines"][0]["minimumAge"] = serde_json::json!(18);
        let parsed: Order = serde_json::from_value(json.clone()).expect("parses");
        assert_eq!(parsed.minimum_age(), Some(18));
        json["lines"][0]["minimumAge"] = serde_json::json!(18.5);
        assert!(serde_json::from_value::<Order>(json.clone()).is_err());
        json["lines"][0]["minimumAge"] = serde_json::json!(-1);
        assert!(serde_json::from_value::<Order>(json).is_err());
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
