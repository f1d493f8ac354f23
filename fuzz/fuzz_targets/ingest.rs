//! Every ingest parser (our JSON, OpenALPR, Plate Recognizer, multipart, JSONL and CSV dumps)
//! over arbitrary bytes: none may panic, and whatever they accept is valid (checked inside
//! `fuzz_one` with debug assertions, which cargo-fuzz builds keep on).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    anpr_ingest::fuzz_one(data);
});
