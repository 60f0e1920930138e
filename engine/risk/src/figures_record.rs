//! The RISK_FIGURES record of the output journal (layout in [`crate::decisions`]): what the
//! portfolio stage published, as the risk stage took it, so that a report or a replay shows
//! the figures every decision read.

use crate::decisions::RISK_FIGURES_LEN;
use crate::published::{PublishedRisk, RiskSummary};

/// The figures a RISK_FIGURES record holds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FiguresRecord {
    pub rows: u32,
    pub ready: bool,
    pub worst_scenario: u16,
    pub summary: RiskSummary,
    pub correlated: f64,
    pub equity: f64,
    pub worst_stress: f64,
}

impl FiguresRecord {
    pub fn of(f: &PublishedRisk) -> FiguresRecord {
        FiguresRecord {
            rows: f.rows,
            ready: f.ready,
            worst_scenario: f.worst_scenario,
            summary: f.summary,
            correlated: f.correlated,
            equity: f.equity,
            worst_stress: f.worst_stress,
        }
    }

    fn values(&self) -> [f64; 11] {
        let s = &self.summary;
        [
            s.var95_hist,
            s.var99_hist,
            s.cvar95_hist,
            s.cvar99_hist,
            s.var95_param,
            s.var99_param,
            s.cvar95_param,
            s.cvar99_param,
            self.correlated,
            self.equity,
            self.worst_stress,
        ]
    }

    pub fn encode(&self) -> [u8; RISK_FIGURES_LEN] {
        let mut p = [0u8; RISK_FIGURES_LEN];
        p[0..4].copy_from_slice(&self.rows.to_le_bytes());
        p[4] = u8::from(self.ready);
        p[6..8].copy_from_slice(&self.worst_scenario.to_le_bytes());
        for (k, v) in self.values().iter().enumerate() {
            p[8 + 8 * k..16 + 8 * k].copy_from_slice(&v.to_le_bytes());
        }
        p
    }

    pub fn decode(p: &[u8]) -> Option<FiguresRecord> {
        if p.len() != RISK_FIGURES_LEN {
            return None;
        }
        let f = |k: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&p[8 + 8 * k..16 + 8 * k]);
            f64::from_le_bytes(b)
        };
        Some(FiguresRecord {
            rows: u32::from_le_bytes([p[0], p[1], p[2], p[3]]),
            ready: p[4] != 0,
            worst_scenario: u16::from_le_bytes([p[6], p[7]]),
            summary: RiskSummary {
                var95_hist: f(0),
                var99_hist: f(1),
                cvar95_hist: f(2),
                cvar99_hist: f(3),
                var95_param: f(4),
                var99_param: f(5),
                cvar95_param: f(6),
                cvar99_param: f(7),
            },
            correlated: f(8),
            equity: f(9),
            worst_stress: f(10),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written() {
        let r = FiguresRecord {
            rows: 481,
            ready: true,
            worst_scenario: 2,
            summary: RiskSummary {
                var95_hist: 1.5,
                var99_hist: 2.25,
                cvar95_hist: 2.0,
                cvar99_hist: 3.125,
                var95_param: 1.25,
                var99_param: 1.75,
                cvar95_param: 1.5,
                cvar99_param: 2.5,
            },
            correlated: 12.0,
            equity: 10_001.5,
            worst_stress: 430.0,
        };
        assert_eq!(FiguresRecord::decode(&r.encode()), Some(r));
        assert_eq!(FiguresRecord::decode(&[0u8; 12]), None);
    }
}
