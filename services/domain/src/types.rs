//! Channels and grades as domain enums, with their stable names and proto conversions.

use complaints_proto::v1 as pb;

/// How a complaint reached the institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Web,
    App,
    WeChat,
    OnlineChat,
    Sms,
    Hotline,
    BranchCounter,
    SelfServiceTerminal,
    Letter,
    SalesManager,
    OnSite,
    RegulatorTransfer,
    Email,
}

impl Channel {
    pub const ALL: [Channel; 13] = [
        Self::Web,
        Self::App,
        Self::WeChat,
        Self::OnlineChat,
        Self::Sms,
        Self::Hotline,
        Self::BranchCounter,
        Self::SelfServiceTerminal,
        Self::Letter,
        Self::SalesManager,
        Self::OnSite,
        Self::RegulatorTransfer,
        Self::Email,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::App => "app",
            Self::WeChat => "wechat",
            Self::OnlineChat => "online_chat",
            Self::Sms => "sms",
            Self::Hotline => "hotline",
            Self::BranchCounter => "branch_counter",
            Self::SelfServiceTerminal => "self_service_terminal",
            Self::Letter => "letter",
            Self::SalesManager => "sales_manager",
            Self::OnSite => "on_site",
            Self::RegulatorTransfer => "regulator_transfer",
            Self::Email => "email",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Channels where a member of staff takes the complaint down and must be named.
    pub fn is_staffed(self) -> bool {
        matches!(self, Self::Hotline | Self::BranchCounter | Self::Letter | Self::SalesManager | Self::OnSite)
    }

    pub fn from_proto(value: i32) -> Option<Self> {
        Some(match pb::Channel::try_from(value).ok()? {
            pb::Channel::Unspecified => return None,
            pb::Channel::Web => Self::Web,
            pb::Channel::App => Self::App,
            pb::Channel::Wechat => Self::WeChat,
            pb::Channel::OnlineChat => Self::OnlineChat,
            pb::Channel::Sms => Self::Sms,
            pb::Channel::Hotline => Self::Hotline,
            pb::Channel::BranchCounter => Self::BranchCounter,
            pb::Channel::SelfServiceTerminal => Self::SelfServiceTerminal,
            pb::Channel::Letter => Self::Letter,
            pb::Channel::SalesManager => Self::SalesManager,
            pb::Channel::OnSite => Self::OnSite,
            pb::Channel::RegulatorTransfer => Self::RegulatorTransfer,
            pb::Channel::Email => Self::Email,
        })
    }

    pub fn to_proto(self) -> pb::Channel {
        match self {
            Self::Web => pb::Channel::Web,
            Self::App => pb::Channel::App,
            Self::WeChat => pb::Channel::Wechat,
            Self::OnlineChat => pb::Channel::OnlineChat,
            Self::Sms => pb::Channel::Sms,
            Self::Hotline => pb::Channel::Hotline,
            Self::BranchCounter => pb::Channel::BranchCounter,
            Self::SelfServiceTerminal => pb::Channel::SelfServiceTerminal,
            Self::Letter => pb::Channel::Letter,
            Self::SalesManager => pb::Channel::SalesManager,
            Self::OnSite => pb::Channel::OnSite,
            Self::RegulatorTransfer => pb::Channel::RegulatorTransfer,
            Self::Email => pb::Channel::Email,
        }
    }
}

/// Urgency grade of SPEC §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    Green,
    Yellow,
    Red,
}

impl std::fmt::Display for Grade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Grade {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Green => "green",
            Self::Yellow => "yellow",
            Self::Red => "red",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "green" => Some(Self::Green),
            "yellow" => Some(Self::Yellow),
            "red" => Some(Self::Red),
            _ => None,
        }
    }

    pub fn from_proto(value: i32) -> Option<Self> {
        match pb::Grade::try_from(value).ok()? {
            pb::Grade::Unspecified => None,
            pb::Grade::Green => Some(Self::Green),
            pb::Grade::Yellow => Some(Self::Yellow),
            pb::Grade::Red => Some(Self::Red),
        }
    }

    pub fn to_proto(self) -> pb::Grade {
        match self {
            Self::Green => pb::Grade::Green,
            Self::Yellow => pb::Grade::Yellow,
            Self::Red => pb::Grade::Red,
        }
    }
}
