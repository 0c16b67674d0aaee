//! The normalised taxonomy: product lines, issue/cause categories, and the explicit tables that
//! map CFPB product labels (every era) and CFPB "Issue" labels onto them.
//!
//! The issue table is the single source of training labels for the category model; it is
//! documented in `classify/README.md` and tested for total coverage of the sample's labels.

use serde::{Deserialize, Serialize};

/// One product line of the bank, the normalised product taxonomy every channel maps onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductLine {
    Deposits,
    Loans,
    Mortgages,
    CreditCards,
    CreditReporting,
    DebtCollection,
    Payments,
    WealthManagement,
    Other,
}

impl ProductLine {
    pub const ALL: [ProductLine; 9] = [
        Self::Deposits,
        Self::Loans,
        Self::Mortgages,
        Self::CreditCards,
        Self::CreditReporting,
        Self::DebtCollection,
        Self::Payments,
        Self::WealthManagement,
        Self::Other,
    ];

    /// Stable snake_case name, used in artifacts, reasons and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deposits => "deposits",
            Self::Loans => "loans",
            Self::Mortgages => "mortgages",
            Self::CreditCards => "credit_cards",
            Self::CreditReporting => "credit_reporting",
            Self::DebtCollection => "debt_collection",
            Self::Payments => "payments",
            Self::WealthManagement => "wealth_management",
            Self::Other => "other",
        }
    }

    /// Inverse of [`ProductLine::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|product| product.as_str() == name)
    }
}

/// Nature of the complaint (SPEC §4): product, service, fees, system, security, other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCategory {
    Product,
    Service,
    Fees,
    System,
    Security,
    Other,
}

impl IssueCategory {
    pub const ALL: [IssueCategory; 6] = [
        Self::Product,
        Self::Service,
        Self::Fees,
        Self::System,
        Self::Security,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Product => "product",
            Self::Service => "service",
            Self::Fees => "fees",
            Self::System => "system",
            Self::Security => "security",
            Self::Other => "other",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|category| category.as_str() == name)
    }
}

/// Product labels, compared case-insensitively after trimming: every CFPB era's label plus the
/// bank's own product list in English and Chinese.
const PRODUCT_LABELS: &[(&str, ProductLine)] = &[
    // CFPB: three names for credit reporting over the years.
    ("credit reporting", ProductLine::CreditReporting),
    (
        "credit reporting or other personal consumer reports",
        ProductLine::CreditReporting,
    ),
    (
        "credit reporting, credit repair services, or other personal consumer reports",
        ProductLine::CreditReporting,
    ),
    ("debt collection", ProductLine::DebtCollection),
    ("mortgage", ProductLine::Mortgages),
    ("credit card", ProductLine::CreditCards),
    ("credit card or prepaid card", ProductLine::CreditCards),
    ("checking or savings account", ProductLine::Deposits),
    ("bank account or service", ProductLine::Deposits),
    ("payday loan", ProductLine::Loans),
    (
        "payday loan, title loan, or personal loan",
        ProductLine::Loans,
    ),
    (
        "payday loan, title loan, personal loan, or advance loan",
        ProductLine::Loans,
    ),
    ("consumer loan", ProductLine::Loans),
    ("student loan", ProductLine::Loans),
    ("vehicle loan or lease", ProductLine::Loans),
    ("money transfers", ProductLine::Payments),
    (
        "money transfer, virtual currency, or money service",
        ProductLine::Payments,
    ),
    ("virtual currency", ProductLine::Payments),
    ("prepaid card", ProductLine::Payments),
    ("other financial service", ProductLine::Other),
    ("debt or credit management", ProductLine::Other),
    // The bank's own product list.
    ("deposits", ProductLine::Deposits),
    ("deposit", ProductLine::Deposits),
    ("savings", ProductLine::Deposits),
    ("存款", ProductLine::Deposits),
    ("储蓄", ProductLine::Deposits),
    ("loans", ProductLine::Loans),
    ("loan", ProductLine::Loans),
    ("personal loan", ProductLine::Loans),
    ("贷款", ProductLine::Loans),
    ("个人贷款", ProductLine::Loans),
    ("消费贷款", ProductLine::Loans),
    ("mortgages", ProductLine::Mortgages),
    ("房贷", ProductLine::Mortgages),
    ("住房贷款", ProductLine::Mortgages),
    ("credit cards", ProductLine::CreditCards),
    ("credit_cards", ProductLine::CreditCards),
    ("信用卡", ProductLine::CreditCards),
    ("credit_reporting", ProductLine::CreditReporting),
    ("征信", ProductLine::CreditReporting),
    ("debt_collection", ProductLine::DebtCollection),
    ("催收", ProductLine::DebtCollection),
    ("wealth management", ProductLine::WealthManagement),
    ("wealth_management", ProductLine::WealthManagement),
    ("investments", ProductLine::WealthManagement),
    ("理财", ProductLine::WealthManagement),
    ("基金", ProductLine::WealthManagement),
    ("e-banking", ProductLine::Payments),
    ("e-banking/payments", ProductLine::Payments),
    ("payments", ProductLine::Payments),
    ("电子银行", ProductLine::Payments),
    ("网银", ProductLine::Payments),
    ("手机银行", ProductLine::Payments),
    ("支付", ProductLine::Payments),
    ("other", ProductLine::Other),
];

/// Maps a product label (any CFPB era, or the bank's own list) to the normalised product line.
/// Returns `None` for an unknown or empty label.
pub fn normalize_product(label: &str) -> Option<ProductLine> {
    let label = label.trim();
    if label.is_empty() {
        return None;
    }
    PRODUCT_LABELS
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(label))
        .map(|(_, product)| *product)
}

use IssueCategory::{Fees, Other, Product, Security, Service, System};

/// CFPB "Issue" label → category. Principles, in order of precedence:
/// - **security**: fraud, scams, identity theft, unauthorised use of an account or a report,
///   privacy, information shared improperly, accounts or loans the consumer never applied for;
/// - **fees**: fees, interest, charges, rates, costs, billing amounts;
/// - **system**: payments, transfers, deposits or withdrawals not processed, processed wrongly or
///   late; cards or wallets that do not work; reports that cannot be obtained;
/// - **service**: how the company dealt with the consumer: investigations, collection conduct,
///   communication, servicing, account management and closing, loan modification;
/// - **product**: the product itself: its content (incorrect information on a report), terms,
///   eligibility, application and origination, marketing, features, repayment difficulty;
/// - **other**: labels with no cause ("Other", bankruptcy, sale of account).
const ISSUE_CATEGORIES: &[(&str, IssueCategory)] = &[
    ("Incorrect information on your report", Product),
    (
        "Problem with a credit reporting company's investigation into an existing problem",
        Service,
    ),
    ("Improper use of your report", Security),
    ("Attempts to collect debt not owed", Service),
    ("Charged fees or interest you didn't expect", Fees),
    ("Loan modification,collection,foreclosure", Service),
    ("Managing an account", Service),
    ("Problem when making payments", System),
    ("Struggling to pay your loan", Product),
    ("Written notification about debt", Service),
    ("Trouble during payment process", System),
    (
        "Problem with the payoff process at the end of the loan",
        Service,
    ),
    ("Communication tactics", Service),
    ("Loan servicing, payments, escrow account", Service),
    ("Getting the loan", Product),
    ("Problem with a purchase shown on your statement", System),
    ("Incorrect information on credit report", Product),
    ("Getting a line of credit", Product),
    ("Struggling to pay mortgage", Product),
    (
        "Problem with additional add-on products or services",
        Product,
    ),
    (
        "Problem with a company's investigation into an existing problem",
        Service,
    ),
    (
        "Took or threatened to take negative or legal action",
        Service,
    ),
    ("Cont'd attempts collect debt not owed", Service),
    ("False statements or representation", Service),
    ("Unable to get your credit report or credit score", System),
    ("Dealing with your lender or servicer", Service),
    ("Account opening, closing, or management", Service),
    ("Problem with fraud alerts or security freezes", Security),
    ("Closing an account", Service),
    ("Received a loan you didn't apply for", Security),
    ("Managing the loan or lease", Service),
    ("Fees or interest", Fees),
    ("Other features, terms, or problems", Product),
    ("Getting a credit card", Product),
    ("Deposits and withdrawals", System),
    ("Fraud or scam", Security),
    (
        "Problem with a lender or other company charging your account",
        Fees,
    ),
    ("Application, originator, mortgage broker", Product),
    ("Can't stop withdrawals from your bank account", System),
    ("Opening an account", Product),
    (
        "Applying for a mortgage or refinancing an existing mortgage",
        Product,
    ),
    ("Struggling to repay your loan", Product),
    (
        "Credit monitoring or identity theft protection services",
        Product,
    ),
    ("Billing disputes", Fees),
    ("Closing your account", Service),
    ("Vehicle was repossessed or sold the vehicle", Service),
    ("Disclosure verification of debt", Service),
    (
        "Advertising and marketing, including promotional offers",
        Product,
    ),
    ("Problem caused by your funds being low", Fees),
    (
        "Money was taken from your bank account on the wrong day or for the wrong amount",
        System,
    ),
    ("Repaying your loan", Product),
    ("Closing on a mortgage", Product),
    ("Loan payment wasn't credited to your account", System),
    ("Can't contact lender or servicer", Service),
    ("Credit reporting company's investigation", Service),
    ("Settlement process and costs", Fees),
    ("Other", Other),
    ("Problems at the end of the loan or lease", Service),
    ("Problems caused by my funds being low", Fees),
    (
        "Was approved for a loan, but didn't receive the money",
        System,
    ),
    ("Unable to get credit report/credit score", System),
    ("Other transaction problem", System),
    ("Getting a loan or lease", Product),
    (
        "Threatened to contact someone or share information improperly",
        Security,
    ),
    ("Identity theft / Fraud / Embezzlement", Security),
    ("Trouble using your card", System),
    ("Problem with a purchase or transfer", System),
    ("Taking/threatening an illegal action", Service),
    ("Problem with cash advance", Product),
    ("Problems when you are unable to pay", Product),
    ("Making/receiving payments, sending money", System),
    (
        "Unauthorized transactions or other transaction problem",
        Security,
    ),
    ("Credit limit changed", Product),
    ("Credit decision / Underwriting", Product),
    (
        "Managing, opening, or closing your mobile wallet account",
        System,
    ),
    ("Closing/Cancelling account", Service),
    ("Money was not available when promised", System),
    ("Improper contact or sharing of info", Security),
    ("Struggling to pay your bill", Product),
    ("Late fee", Fees),
    ("Unexpected or other fees", Fees),
    ("Payoff process", Service),
    ("Improper use of my credit report", Security),
    ("Problem getting a card or closing an account", Service),
    ("APR or interest rate", Fees),
    ("Credit card protection / Debt protection", Product),
    ("Vehicle was damaged or destroyed the vehicle", Service),
    ("Credit monitoring or identity protection", Product),
    ("Taking out the loan or lease", Product),
    ("Trouble using the card", System),
    ("Credit line increase/decrease", Product),
    ("Other transaction issues", System),
    ("Customer service / Customer relations", Service),
    ("Confusing or missing disclosures", Product),
    ("Transaction issue", System),
    ("Billing statement", Fees),
    ("Using a debit or ATM card", System),
    ("Rewards", Product),
    ("Problem with customer service", Service),
    (
        "Problem with a company's investigation into an existing issue",
        Service,
    ),
    ("Delinquent account", Service),
    ("Unsolicited issuance of credit card", Security),
    ("Credit determination", Product),
    ("Advertising and marketing", Product),
    ("Privacy", Security),
    ("Getting a loan", Product),
    ("Account terms and changes", Product),
    ("Other service problem", Service),
    ("Advertising", Product),
    ("Shopping for a loan or lease", Product),
    ("Bankruptcy", Other),
    ("Application processing delay", Service),
    ("Sale of account", Other),
    ("Wrong amount charged or received", System),
    ("Charged fees or interest I didn't expect", Fees),
    ("Dealing with my lender or servicer", Service),
    (
        "Identity theft protection or other monitoring services",
        Product,
    ),
    ("Lost or stolen money order", Security),
    ("Confusing or misleading advertising or marketing", Product),
    ("Applying for a mortgage", Product),
    ("Problem adding money", System),
    ("Repossession", Service),
    ("Collection practices", Service),
    ("Balance transfer fee", Fees),
    ("Cash advance", Product),
    ("Convenience checks", Product),
    ("Balance transfer", Product),
    ("Forbearance / Workout plans", Product),
    ("Incorrect/missing disclosures or info", Product),
    ("Other fee", Fees),
    ("Can't contact lender", Service),
    ("Unauthorized transactions/trans. issues", Security),
    ("Was approved for a loan, but didn't receive money", System),
    ("Property was damaged or destroyed property", Service),
    ("Lost or stolen check", Security),
    ("Didn't provide services promised", Service),
    ("Electronic communications", System),
    ("Cash advance fee", Fees),
    ("Overlimit fee", Fees),
    ("Arbitration", Other),
    ("Incorrect exchange rate", Fees),
    ("Other service issues", Service),
    ("Fraud or scam ", Security),
];

/// Maps a CFPB "Issue" label to its category (exact label, case-insensitive, trimmed).
/// Returns `None` for a label not in the table.
pub fn category_for_cfpb_issue(issue: &str) -> Option<IssueCategory> {
    let issue = issue.trim();
    if issue.is_empty() {
        return None;
    }
    ISSUE_CATEGORIES
        .iter()
        .find(|(known, _)| known.trim().eq_ignore_ascii_case(issue))
        .map(|(_, category)| *category)
}

/// Keyword rules used when no model is loaded, or when the model is unsure: (needle in the
/// lowercased text, product). First match wins, so specific needles come first.
pub(crate) const PRODUCT_KEYWORDS: &[(&str, ProductLine)] = &[
    ("credit report", ProductLine::CreditReporting),
    ("credit bureau", ProductLine::CreditReporting),
    ("equifax", ProductLine::CreditReporting),
    ("experian", ProductLine::CreditReporting),
    ("transunion", ProductLine::CreditReporting),
    ("征信", ProductLine::CreditReporting),
    ("debt collector", ProductLine::DebtCollection),
    ("collection agency", ProductLine::DebtCollection),
    ("催收", ProductLine::DebtCollection),
    ("mortgage", ProductLine::Mortgages),
    ("房贷", ProductLine::Mortgages),
    ("credit card", ProductLine::CreditCards),
    ("信用卡", ProductLine::CreditCards),
    ("理财", ProductLine::WealthManagement),
    ("基金", ProductLine::WealthManagement),
    ("wealth management", ProductLine::WealthManagement),
    ("mobile banking", ProductLine::Payments),
    ("online banking", ProductLine::Payments),
    ("wire transfer", ProductLine::Payments),
    ("money transfer", ProductLine::Payments),
    ("手机银行", ProductLine::Payments),
    ("网银", ProductLine::Payments),
    ("转账", ProductLine::Payments),
    ("支付", ProductLine::Payments),
    ("loan", ProductLine::Loans),
    ("贷款", ProductLine::Loans),
    ("checking account", ProductLine::Deposits),
    ("savings account", ProductLine::Deposits),
    ("存款", ProductLine::Deposits),
    ("储蓄", ProductLine::Deposits),
];

/// Keyword rules for the category, same semantics as [`PRODUCT_KEYWORDS`].
pub(crate) const CATEGORY_KEYWORDS: &[(&str, IssueCategory)] = &[
    ("fraud", Security),
    ("identity theft", Security),
    ("unauthorized", Security),
    ("stolen", Security),
    ("被盗", Security),
    ("盗刷", Security),
    ("诈骗", Security),
    ("泄露", Security),
    ("fee", Fees),
    ("interest rate", Fees),
    ("手续费", Fees),
    ("收费", Fees),
    ("利息", Fees),
    ("outage", System),
    ("app crash", System),
    ("系统", System),
    ("闪退", System),
    ("无法登录", System),
    ("rude", Service),
    ("customer service", Service),
    ("态度", Service),
    ("服务", Service),
    ("排队", Service),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_credit_reporting_names_map_to_one_product() {
        for label in [
            "Credit reporting",
            "Credit reporting or other personal consumer reports",
            "Credit reporting, credit repair services, or other personal consumer reports",
        ] {
            assert_eq!(
                normalize_product(label),
                Some(ProductLine::CreditReporting),
                "{label}"
            );
        }
    }

    #[test]
    fn own_product_list_maps_in_both_languages() {
        assert_eq!(normalize_product("信用卡"), Some(ProductLine::CreditCards));
        assert_eq!(
            normalize_product("Wealth Management"),
            Some(ProductLine::WealthManagement)
        );
        assert_eq!(normalize_product("e-banking"), Some(ProductLine::Payments));
        assert_eq!(normalize_product("nonsense"), None);
        assert_eq!(normalize_product(""), None);
    }

    #[test]
    fn product_names_round_trip() {
        for product in ProductLine::ALL {
            assert_eq!(ProductLine::from_name(product.as_str()), Some(product));
            assert_eq!(normalize_product(product.as_str()), Some(product));
        }
        for category in IssueCategory::ALL {
            assert_eq!(IssueCategory::from_name(category.as_str()), Some(category));
        }
    }

    #[test]
    fn issue_table_examples() {
        assert_eq!(category_for_cfpb_issue("Fraud or scam"), Some(Security));
        assert_eq!(category_for_cfpb_issue("late fee"), Some(Fees));
        assert_eq!(
            category_for_cfpb_issue("Trouble using your card"),
            Some(System)
        );
        assert_eq!(category_for_cfpb_issue("no such issue"), None);
    }
}
