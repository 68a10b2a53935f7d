//! Sample orders for the demo and for development, fed one after another.

use crate::payment::Order;
use crate::vipps::model::Currency;

const DEMO_ORDERS: &str = include_str!("../../assets/demo-orders.json");

/// The sample orders in the market's currency, with ids unique to this run (`run`) so that a
/// long-lived simulator never sees a reference twice.
pub fn orders(currency: Currency, run: &str) -> Result<Vec<Order>, String> {
    let mut orders: Vec<Order> =
        serde_json::from_str(DEMO_ORDERS).map_err(|e| format!("assets/demo-orders.json: {e}"))?;
    for (i, o) in orders.iter_mut().enumerate() {
        o.currency = currency;
        o.order_id = format!("demo-{run}-{}", i + 1);
        o.validate(currency)
            .map_err(|e| format!("assets/demo-orders.json order {}: {e}", i + 1))?;
    }
    Ok(orders)
}

/// Cycles through the sample orders.
#[derive(Debug, Clone)]
pub struct Demo {
    orders: Vec<Order>,
    served: usize,
    run: String,
}

impl Demo {
    pub fn new(orders: Vec<Order>, run: String) -> Self {
        Demo {
            orders,
            served: 0,
            run,
        }
    }

    /// How many orders have been handed out so far.
    pub fn served(&self) -> usize {
        self.served
    }

    pub fn next_order(&mut self) -> Option<Order> {
        if self.orders.is_empty() {
            return None;
        }
        let mut o = self.orders[self.served % self.orders.len()].clone();
        self.served += 1;
        o.order_id = format!("demo-{}-{}", self.run, self.served);
        Some(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_orders_are_valid_in_every_market() {
        for c in [Currency::Nok, Currency::Dkk, Currency::Eur] {
            let orders = orders(c, "t1").expect("valid");
            assert!(orders.len() >= 2);
            assert!(orders[0].lines.len() >= 3, "the demo shows several lines");
            assert!(
                orders.iter().any(|o| o.minimum_age() == Some(18)),
                "one sample order has an age limit"
            );
        }
    }

    #[test]
    fn each_served_order_has_a_fresh_id() {
        let mut d = Demo::new(orders(Currency::Nok, "t1").expect("valid"), "t1".into());
        let ids: Vec<_> = (0..5)
            .filter_map(|_| d.next_order())
            .map(|o| o.order_id)
            .collect();
        let mut unique = ids.clone();
        unique.dedup();
        assert_eq!(ids.len(), 5);
        assert_eq!(unique, ids);
    }
}
