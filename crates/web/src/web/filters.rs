//! The templates' own filters (askama looks for `filters::name` where a template is derived;
//! modules with such templates `use crate::web::filters;`).

use askama::{Result, Values};

/// An amount of money in fen, as the integer types hold it.
pub trait Fen {
    fn fen(&self) -> i64;
}

impl Fen for i32 {
    fn fen(&self) -> i64 {
        i64::from(*self)
    }
}

impl Fen for i64 {
    fn fen(&self) -> i64 {
        *self
    }
}

impl<T: Fen + ?Sized> Fen for &T {
    fn fen(&self) -> i64 {
        (**self).fen()
    }
}

/// `{{ bill_fen|yuan }}`: fen shown as 元 with two decimals ("58.00"), in integers only.
#[askama::filter_fn]
pub fn yuan(fen: impl Fen, _: &dyn Values) -> Result<String> {
    Ok(nightmarket_domain::voucher::yuan(fen.fen()))
}

#[cfg(test)]
mod tests {
    use crate::web::filters;
    use askama::Template;

    #[derive(Template)]
    #[template(source = "{{ a|yuan }} {{ b|yuan }} {{ c|yuan }}", ext = "txt")]
    struct Amounts {
        a: i32,
        b: i64,
        c: i64,
    }

    #[test]
    fn amounts_render_in_yuan_from_either_integer_type() {
        let page = Amounts {
            a: 5800,
            b: 5,
            c: -1050,
        };
        assert_eq!(page.render().unwrap(), "58.00 0.05 -10.50");
    }
}
