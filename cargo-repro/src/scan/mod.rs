//! Source scanning for the heuristic rules (being written).
