//! The organisation directory (departments and staff, loaded from a TOML file) and the recusal
//! rule of SPEC §4: nobody connected to the matter complained about handles or approves it.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::StaffId;

#[derive(Debug, Clone, Deserialize)]
pub struct Department {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Staff {
    pub id: String,
    pub name: String,
    pub department: String,
    /// handler, department_head, branch_vice_president, head_office_risk_legal,
    /// senior_executive, supervisor
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub branch: String,
    /// The staff member's line manager.
    #[serde(default)]
    pub manager: Option<String>,
    /// For a branch vice president: the departments (lines of business) they are in charge of
    /// (分管), whose resolutions they may approve.
    #[serde(default)]
    pub in_charge_of: Vec<String>,
}

impl Staff {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrgDirectory {
    #[serde(default, rename = "department")]
    pub departments: Vec<Department>,
    #[serde(default, rename = "staff")]
    pub staff: Vec<Staff>,
}

#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error("cannot read org directory {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid org directory {path}: {source}")]
    Parse { path: String, source: Box<toml::de::Error> },
    #[error("org directory {path}: {problem}")]
    Invalid { path: String, problem: String },
}

/// What the complaint is about, for recusal.
#[derive(Debug, Clone, Default)]
pub struct Involvement<'a> {
    pub staff: &'a [StaffId],
    pub branch: &'a str,
}

impl OrgDirectory {
    pub fn load(path: &Path) -> Result<Self, OrgError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| OrgError::Read { path: display.clone(), source })?;
        Self::parse(&text, &display)
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self, OrgError> {
        let directory: Self = toml::from_str(text)
            .map_err(|source| OrgError::Parse { path: origin.to_owned(), source: Box::new(source) })?;
        let mut seen = HashMap::new();
        for member in &directory.staff {
            if let Err(error) = StaffId::parse("id", &member.id) {
                return Err(OrgError::Invalid { path: origin.to_owned(), problem: format!("staff {}: {error}", member.id) });
            }
            if seen.insert(member.id.as_str(), ()).is_some() {
                return Err(OrgError::Invalid { path: origin.to_owned(), problem: format!("staff id {} appears twice", member.id) });
            }
            if !directory.departments.iter().any(|d| d.id == member.department) {
                return Err(OrgError::Invalid {
                    path: origin.to_owned(),
                    problem: format!("staff {} names unknown department {}", member.id, member.department),
                });
            }
        }
        Ok(directory)
    }

    pub fn staff(&self, id: &str) -> Option<&Staff> {
        self.staff.iter().find(|s| s.id == id)
    }

    /// Members of `department` holding `role`, in directory order.
    pub fn with_role<'a>(&'a self, department: Option<&'a str>, role: &'a str) -> impl Iterator<Item = &'a Staff> + 'a {
        self.staff
            .iter()
            .filter(move |s| department.is_none_or(|d| s.department == d) && s.roles.iter().any(|r| r == role))
    }

    /// Why `candidate` must stay out of a matter, or `None` when they may take it: they are
    /// named in it, they manage someone named, or they work at the branch involved.
    pub fn conflict(&self, candidate: &Staff, involvement: &Involvement<'_>) -> Option<String> {
        if involvement.staff.iter().any(|s| s.as_str() == candidate.id) {
            return Some(format!("{} is named in the complaint", candidate.id));
        }
        for named in involvement.staff {
            if let Some(member) = self.staff(named.as_str()) {
                if member.manager.as_deref() == Some(candidate.id.as_str()) {
                    return Some(format!("{} is the line manager of {}", candidate.id, named));
                }
            }
        }
        if !involvement.branch.is_empty() && candidate.branch == involvement.branch {
            return Some(format!("{} works at the branch involved ({})", candidate.id, involvement.branch));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIRECTORY: &str = r#"
        [[department]]
        id = "cards"
        name = "Cards"
        [[staff]]
        id = "M1"
        name = "Manager"
        department = "cards"
        roles = ["handler", "department_head"]
        branch = "HQ"
        [[staff]]
        id = "H1"
        name = "Handler"
        department = "cards"
        roles = ["handler"]
        branch = "B7"
        manager = "M1"
    "#;

    #[test]
    fn recusal_covers_named_staff_their_manager_and_the_branch() {
        let org = OrgDirectory::parse(DIRECTORY, "test").expect("valid directory");
        let manager = org.staff("M1").expect("M1");
        let handler = org.staff("H1").expect("H1");
        let named = vec![StaffId::parse("staff", "H1").expect("id")];
        let involvement = Involvement { staff: &named, branch: "" };
        assert!(org.conflict(handler, &involvement).is_some());
        assert!(org.conflict(manager, &involvement).expect("manager recused").contains("line manager"));
        let branch = Involvement { staff: &[], branch: "B7" };
        assert!(org.conflict(handler, &branch).is_some());
        assert!(org.conflict(manager, &branch).is_none());
    }

    #[test]
    fn unknown_department_is_rejected() {
        let text = "[[staff]]\nid = \"X\"\nname = \"X\"\ndepartment = \"nowhere\"\n";
        assert!(matches!(OrgDirectory::parse(text, "t"), Err(OrgError::Invalid { .. })));
    }
}
