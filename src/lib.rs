pub mod egress;
pub mod script;
