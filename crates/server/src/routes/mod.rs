pub mod auth;
pub mod catalog;
pub mod ledger;
pub mod ops;
pub mod reads;
pub mod registers;
pub mod search;
pub mod tracking;
