// The references in docs/reference/ are the ones the build generates from
// the .td files (run scripts/update-docs.sh after changing a .td file), and
// they describe every op, attribute, type and pass.

// RUN: diff %hope_obj_root/docs/Dialects/NLDialect.md %docs/reference/NLDialect.md
// RUN: diff %hope_obj_root/docs/Dialects/NLCPUDialect.md %docs/reference/NLCPUDialect.md
// RUN: diff %hope_obj_root/docs/Passes/NLPasses.md %docs/reference/NLPasses.md
// RUN: diff %hope_obj_root/docs/Passes/NLCodegenPasses.md %docs/reference/NLCodegenPasses.md
// RUN: diff %hope_obj_root/docs/Passes/NLCPUCodegenPasses.md %docs/reference/NLCPUCodegenPasses.md
// RUN: diff %hope_obj_root/docs/Passes/NLCUDACodegenPasses.md %docs/reference/NLCUDACodegenPasses.md
// RUN: diff %hope_obj_root/docs/Passes/NLCUDAInspectPasses.md %docs/reference/NLCUDAInspectPasses.md

// RUN: FileCheck %s --check-prefix=OPS < %docs/reference/NLDialect.md
// OPS: ## Operations
// OPS-DAG: ### `nl.activation`
// OPS-DAG: ### `nl.causal_conv`
// OPS-DAG: ### `nl.chunk_pool`
// OPS-DAG: ### `nl.cms`
// OPS-DAG: ### `nl.final_state`
// OPS-DAG: ### `nl.l2_normalize`
// OPS-DAG: ### `nl.linear`
// OPS-DAG: ### `nl.memory`
// OPS-DAG: ### `nl.merge_heads`
// OPS-DAG: ### `nl.moment`
// OPS-DAG: ### `nl.param_update`
// OPS-DAG: ### `nl.clip_grad_norm`
// OPS-DAG: ### `nl.lr_schedule`
// OPS-DAG: ### `nl.rate`
// OPS-DAG: ### `nl.read`
// OPS-DAG: ### `nl.rms_norm`
// OPS-DAG: ### `nl.split_heads`
// OPS-DAG: ### `nl.stop_gradient`
// OPS-DAG: ### `nl.stream_state`
// OPS-DAG: ### `nl.update`
// OPS: ## Attributes
// OPS-DAG: ### ActivationAttr
// OPS-DAG: ### AdamWRuleAttr
// OPS-DAG: ### ChunkAggregatedAttr
// OPS-DAG: ### CmsSignalAttr
// OPS-DAG: ### CmsVariantAttr
// OPS-DAG: ### DGDAttr
// OPS-DAG: ### DotObjectiveAttr
// OPS-DAG: ### EveryAttr
// OPS-DAG: ### L2ObjectiveAttr
// OPS-DAG: ### LinearModelAttr
// OPS-DAG: ### M3RuleAttr
// OPS-DAG: ### MLPModelAttr
// OPS-DAG: ### MomentumGDAttr
// OPS-DAG: ### MuonRuleAttr
// OPS-DAG: ### SGDMomentumRuleAttr
// OPS: ## Types
// OPS: ### MemoryType

// RUN: FileCheck %s --check-prefix=PASSES < %docs/reference/NLPasses.md
// PASSES-DAG: ### `-nl-assign-levels`
// PASSES-DAG: ### `-nl-differentiate`
// PASSES-DAG: ### `-nl-print-levels`
// PASSES-DAG: ### `-nl-verify-levels`

// Codegen passes: the common ones, and each backend's in its own reference.
// RUN: FileCheck %s --check-prefix=CODEGEN < %docs/reference/NLCodegenPasses.md
// CODEGEN-DAG: ### `-nl-lower-blocks-to-linalg`
// CODEGEN-DAG: ### `-nl-lower-optimizers`
// CODEGEN-DAG: ### `-nl-emit-entry-abi`
// RUN: not grep -e "^### .-nl-tile-contractions" %docs/reference/NLCodegenPasses.md
// RUN: FileCheck %s --check-prefix=CPU < %docs/reference/NLCPUCodegenPasses.md
// CPU-DAG: ### `-nl-tile-contractions`
// CPU-DAG: ### `-nl-split-large-functions`
// RUN: not grep -e "^### .-nl-lower-blocks-to-linalg" %docs/reference/NLCPUCodegenPasses.md
// hope-opt registers both.
// RUN: hope-opt --help | FileCheck %s --check-prefix=OPT
// OPT-DAG: --nl-lower-blocks-to-linalg
// OPT-DAG: --nl-tile-contractions

// The tools register the dialects the references document (nlcpu through
// the CPU backend).
// RUN: hope-opt --show-dialects | FileCheck %s --check-prefix=DIALECT
// DIALECT: ,nl,nlcpu,
