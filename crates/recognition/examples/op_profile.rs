//! Where a model's time goes, op by op, as the recogniser's plans run it.
//!
//! ```sh
//! cargo run --release -p anpr-recognition --example op_profile -- \
//!     MODELS_DIR/PP-OCRv6_det_small.onnx 384 640 [RUNS] [--tract-only]
//! ```
//!
//! Runs the model on a `1 x 3 x H x W` input RUNS times (10 by default) and prints the median
//! of the whole run, then each op kind's and each node's median, slowest first.
//! `--tract-only` leaves out the `direct_conv` replacements, for an A/B in one session.

use std::collections::HashMap;
use std::time::Instant;

use anpr_recognition::direct_conv::with_direct_convs;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::plan::eval;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() -> TractResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tract_only = args.iter().any(|a| a == "--tract-only");
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let [path, height, width, rest @ ..] = positional.as_slice() else {
        eprintln!("usage: op_profile MODEL.onnx HEIGHT WIDTH [RUNS] [--tract-only]");
        std::process::exit(2);
    };
    let (h, w): (usize, usize) = (height.parse()?, width.parse()?);
    let runs: usize = rest.first().map(|r| r.parse()).transpose()?.unwrap_or(10);
    let model = tract_onnx::onnx()
        .with_ignore_output_shapes(true)
        .with_ignore_value_info(true)
        .model_for_path(path)?
        .with_input_fact(0, f32::fact([1, 3, h, w]).into())?
        .into_typed()?
        .into_decluttered()?;
    let model = if tract_only {
        model
    } else {
        with_direct_convs(model)?
    };
    let plan = model.into_optimized()?.into_runnable()?;
    let input: Tensor = tract_ndarray::Array4::from_shape_fn((1, 3, h, w), |(_, c, y, x)| {
        ((x * 7 + y * 13 + c * 5) % 255) as f32 / 127.5 - 1.0
    })
    .into();
    let mut state = plan.spawn()?;
    let mut per_node: HashMap<usize, Vec<f64>> = HashMap::new();
    let mut totals = Vec::new();
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        state.run_plan_with_eval(
            tvec!(input.clone().into()),
            |ctx, op_state, node, inputs| {
                let node_start = Instant::now();
                let outputs = eval(ctx, op_state, node, inputs);
                let ms = node_start.elapsed().as_secs_f64() * 1e3;
                per_node.entry(node.id).or_default().push(ms);
                outputs
            },
        )?;
        totals.push(start.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "whole run: {:.1} ms (median of {})",
        median(totals),
        runs.max(1)
    );
    let model = plan.model();
    let mut nodes: Vec<(f64, &str, String)> = per_node
        .into_iter()
        .map(|(id, times)| {
            let node = model.node(id);
            let shape = model
                .outlet_fact(OutletId::new(id, 0))
                .map(|f| format!("{:?}", f.shape))
                .unwrap_or_default();
            (
                median(times),
                node.name.as_str(),
                format!("{} {shape}", node.op().name()),
            )
        })
        .collect();
    nodes.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut per_op: HashMap<String, f64> = HashMap::new();
    for (ms, _, what) in &nodes {
        let op = what.split(' ').next().unwrap_or_default().to_string();
        *per_op.entry(op).or_default() += ms;
    }
    let mut per_op: Vec<_> = per_op.into_iter().collect();
    per_op.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("\nby op kind (sum of node medians, ms):");
    for (op, ms) in per_op.iter().take(15) {
        println!("{ms:8.2}  {op}");
    }
    println!("\nslowest nodes (median ms):");
    for (ms, name, what) in nodes.iter().take(30) {
        println!("{ms:8.2}  {name}  {what}");
    }
    Ok(())
}
