//! The register facts the rules look up, through one read trait.
//!
//! The engine asks once per member of staff (their district, team and connected vehicles),
//! once per file number and, for tracking requests only, per plate; it keeps the answers, so a
//! year of uses costs a few thousand lookups, not one per use.

use crate::error::Result;
use anpr_policy::registers::{
    connected_vehicles, ConnectedVehicle, IncidentRecord, MemoryRegisters, StolenEntry,
    VehicleRecord,
};
use anpr_policy::RegisterView;
use std::collections::HashMap;

/// What the rules know about a member of staff.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StaffProfile {
    /// Their police district (from the user directory).
    pub district: Option<String>,
    /// Their team (from the staff register).
    pub team: Option<String>,
    /// Their person id in the registers (from the staff register).
    pub person_id: Option<String>,
    /// Vehicles registered to them, their household or declared associates.
    pub connected: Vec<ConnectedVehicle>,
}

/// Read access to the facts the rules need.
pub trait Facts {
    fn profile(&self, staff_id: &str) -> Result<StaffProfile>;
    fn incident(&self, file_number: &str) -> Result<Option<IncidentRecord>>;
    /// The incidents among `file_numbers` the register holds (any order): one lookup for many.
    fn incidents(&self, file_numbers: &[&str]) -> Result<Vec<IncidentRecord>> {
        let mut out = Vec::new();
        for f in file_numbers {
            out.extend(self.incident(f)?);
        }
        Ok(out)
    }
    /// Every stolen report of the plate, newest first.
    fn stolen(&self, plate: &str) -> Result<Vec<StolenEntry>>;
    fn vehicle(&self, plate: &str) -> Result<Option<VehicleRecord>>;
}

/// Facts from the policy's registers (`RegisterView`: SQLite in a deployment, memory in tests)
/// and the user directory's districts.
pub struct RegisterFacts<'a> {
    pub view: &'a dyn RegisterView,
    /// Staff id -> district.
    pub districts: &'a HashMap<String, String>,
}

impl Facts for RegisterFacts<'_> {
    fn profile(&self, staff_id: &str) -> Result<StaffProfile> {
        let mut p = StaffProfile {
            district: self.districts.get(staff_id).cloned(),
            ..Default::default()
        };
        if let Some(staff) = self.view.staff(staff_id)? {
            let associates = self.view.associates(staff_id)?;
            p.connected = connected_vehicles(self.view, &staff, &associates)?;
            p.team = staff.team;
            p.person_id = Some(staff.person_id);
        }
        Ok(p)
    }
    fn incident(&self, file_number: &str) -> Result<Option<IncidentRecord>> {
        Ok(self.view.incident(file_number)?)
    }
    fn incidents(&self, file_numbers: &[&str]) -> Result<Vec<IncidentRecord>> {
        Ok(self.view.incidents(file_numbers)?)
    }
    fn stolen(&self, plate: &str) -> Result<Vec<StolenEntry>> {
        Ok(self.view.stolen(plate)?)
    }
    fn vehicle(&self, plate: &str) -> Result<Option<VehicleRecord>> {
        Ok(self.view.vehicle(plate)?)
    }
}

/// Registers and districts held in memory (tests, and the simulator's replay).
#[derive(Debug, Clone, Default)]
pub struct MemoryFacts {
    pub registers: MemoryRegisters,
    pub districts: HashMap<String, String>,
}

impl MemoryFacts {
    pub fn facts(&self) -> RegisterFacts<'_> {
        RegisterFacts {
            view: &self.registers,
            districts: &self.districts,
        }
    }
}
