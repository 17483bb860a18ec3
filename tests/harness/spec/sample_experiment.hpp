// A valid experiment that uses every feature of the format; the happy-path tests read it back
// field by field and the fuzz test mutates it.
#pragma once

namespace jenga::harness::testing {

inline constexpr const char* kSampleExperiment = R"(# all features
name: sample
paper: [Fig 12, "Table 3"]
description: >
  A folded
  description.
task: train-bench
matrix:
  fixed:
    model: llama2-7b
    steps: 10
    lr: 2.0e-4
    use_lora: true
    tag: "4096"
    note: '$$literal'
    shape: [1, 2]
  sweep:
    method: [base, jenga]
    seq_len: $lengths
    batch: [1, "$extra"]
  include:
    - {method: longlora, seq_len: 4096}
  exclude:
    - {method: jenga, batch: 1}
profiles:
  cpu:
    fixed: {model: tiny-llama}
    sweep: {method: [base]}
  h100:
    exclude: [{seq_len: 8192}]
quick:
  fixed: {steps: 2}
figures:
  - id: fig12-memory
    type: grouped_bars
    title: "Peak memory"
    x: seq_len
    y: peak_allocated_mib
    series: method
    facet: model
    filter: {batch: 1}
    x_label: tokens
    y_label: GiB
    y_scale: 0.0009765625
    log_x: true
    baseline: base
    annotate: reduction
    paper: Fig 12
    caption: peak allocated memory per step
    labels: {base: LoRA, "4096": 4K}
    log_y: true
  - id: fig12-breakdown
    group: fig12
    type: stacked_bars
    x: seq_len
    stack: [attn_ms, mlp_ms]
    x_scale: 0.001
tables:
  - id: tab3
    title: Table 3
    rows: model
    columns: method
    value: step_time_ms
    filter: {seq_len: 4096}
    format: "{:.1f}"
    scale: 0.001
    labels: {step_time_ms: step time}
  - id: tab-summary
    type: vs_baseline
    rows: [model, seq_len]
    columns: method
    baseline: base
    paper: Fig 12-13
    caption: reductions
    ratios:
      - {value: peak_allocated_mib, label: memory reduction, unit: GiB, scale: 0.0009765625, format: "{:.1f}"}
      - {value: tokens_per_s, label: speedup, higher_is_better: true}
)";

}  // namespace jenga::harness::testing
