//! Masking of personal data for display and logs: only enough characters remain to recognise it.

use complaints_proto::mask as keep_ends;

/// `13812345678` → `138****5678`.
pub fn phone(value: &str) -> String {
    keep_ends(value, 3, 4)
}

/// `110101199003071234` → `1101**********1234`.
pub fn id_number(value: &str) -> String {
    keep_ends(value, 4, 4)
}

/// Account or card number: only the last four digits remain.
pub fn account_number(value: &str) -> String {
    keep_ends(value, 0, 4)
}

/// `张三丰` → `张**`; `Alice Smith` → `A**********`.
pub fn name(value: &str) -> String {
    keep_ends(value, 1, 0)
}

/// `alice@example.com` → `a****@example.com`.
pub fn email(value: &str) -> String {
    match value.split_once('@') {
        Some((local, domain)) => format!("{}@{domain}", keep_ends(local, 1, 0)),
        None => keep_ends(value, 1, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_only_recognisable_ends() {
        assert_eq!(phone("13812345678"), "138****5678");
        assert_eq!(id_number("110101199003071234"), "1101**********1234");
        assert_eq!(account_number("6222020200112233445"), "***************3445");
        assert_eq!(name("张三丰"), "张**");
        assert_eq!(email("alice@example.com"), "a****@example.com");
        assert_eq!(phone("123"), "***");
    }
}
