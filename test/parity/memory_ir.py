"""nl IR of one memory level with one update, one read and its final state, for the parity
tests: `func.func @forward(keys, values, lr, [retention], [momentum], queries, init...) ->
(reads, final state...)`, written from a reference MemorySpec so that both sides describe
the same memory."""

from __future__ import annotations

from reference import memory as ref


def _tensor(shape, element: str) -> str:
    return "tensor<" + "x".join(str(s) for s in shape) + f"x{element}>"


def model_attr(model) -> str:
    if isinstance(model, ref.LinearModel):
        return "#nl.linear"
    return (f"#nl.mlp<depth = {model.depth}, hidden = {model.hidden}, activation = {model.activation}, "
            f"residual = {model.residual}, norm = {model.norm}>")


def objective_attr(objective) -> str:
    if isinstance(objective, ref.Dot):
        return "#nl.dot"
    return f"#nl.l2<reduction = {objective.reduction}, half = {'true' if objective.half else 'false'}>"


def rule_attr(rule) -> str:
    if isinstance(rule, ref.MomentumGD):
        return (f"#nl.momentum_gd<order = {rule.order}, lr = {rule.lr}, retention = {rule.retention}, "
                f"momentum = {rule.momentum}>")
    return (f"#nl.dgd<momentum = {'true' if rule.momentum else 'false'}, step_size = {rule.step_size}, "
            f"lr = {rule.lr}, retention = {rule.retention}>")


def state_name(param) -> str:
    """The dialect's name of a state parameter (getMemoryStateLayout)."""
    return "norm_scale" if param.name == "norm" else param.name


def memory_function(spec: ref.MemorySpec, heads: int, d_in: int, d_out: int, point: str,
                    element: str = "f64", retention: bool = True, streaming: bool = False) -> str:
    """With `streaming`, the function takes and returns everything a piece of a sequence
    carries to the next: state and momentum per sequence, the reference state, the pending
    gradient sum (chunk-aggregated) and the position."""
    e = element
    mem = f"!nl.memory<{heads} heads, {d_in} -> {d_out}, {e}>"
    seq_in = _tensor(["?", heads, "?", d_in], e)
    seq_out = _tensor(["?", heads, "?", d_out], e)
    rate = _tensor(["?", heads, "?"], e)
    order = spec.momentum_order()
    layout = ref.state_layout(spec.model, d_in, d_out)
    args = [f'%k: {seq_in} {{nl.input = "keys"}}', f'%v: {seq_out} {{nl.input = "values"}}',
            f'%lr: {rate} {{nl.input = "lr"}}']
    if retention:
        args.append(f'%retention: {rate} {{nl.input = "retention"}}')
    args += [f'%beta{i}: {rate} {{nl.input = "momentum{i}"}}' for i in range(order)]
    args.append(f'%q: {seq_in} {{nl.input = "queries"}}')
    final_types = [_tensor(["?", heads, *p.shape], e) for p in layout]
    if streaming:
        init_types = final_types * (1 + order)
        names = [f"M.{state_name(p)}" for p in layout]
        names += [f"M.momentum{o}.{state_name(p)}" for o in range(order) for p in layout]
        args += [f'%w{i}: {t} {{nl.state = "{n}"}}' for i, (n, t) in enumerate(zip(names, init_types))]
        args += [f'%ref{i}: {t} {{nl.state = "M.reference.{state_name(p)}"}}'
                 for i, (p, t) in enumerate(zip(layout, final_types))]
        aggregated_spec = spec.chunk_aggregated is not None
        if aggregated_spec:
            args += [f'%pend{i}: {t} {{nl.state = "M.pending.{state_name(p)}"}}'
                     for i, (p, t) in enumerate(zip(layout, final_types))]
        args.append('%pos: tensor<i64> {nl.state = "M.position"}')
        result_types = final_types * (1 + order)
        results = [f'{seq_out} {{nl.output = "y"}}'] + [
            f'{t} {{nl.state = "{n}"}}' for n, t in zip(names, result_types)]
        results += [f'{t} {{nl.state = "M.reference.{state_name(p)}"}}' for p, t in zip(layout, final_types)]
        if aggregated_spec:
            results += [f'{t} {{nl.state = "M.pending.{state_name(p)}"}}' for p, t in zip(layout, final_types)]
        results.append('tensor<i64> {nl.state = "M.position"}')
    else:
        init_types = [_tensor([heads, *p.shape], e) for p in layout]
        args += [f'%w{i}: {t} {{nl.weight = "M.{state_name(p)}"}}' for i, (p, t) in enumerate(zip(layout, init_types))]
        results = [f'{seq_out} {{nl.output = "y"}}'] + [
            f'{t} {{nl.state = "M.{state_name(p)}"}}' for p, t in zip(layout, final_types)]
    aggregated = ""
    if spec.chunk_aggregated:
        period = spec.chunk_aggregated.linearize
        aggregated = f", chunk_aggregated = #nl.chunk_aggregated<linearize = {period or 'sequence'}>"
    rates = ["%lr"] + (["%retention"] if retention else [])
    update = f"nl.update %m keys(%k) values(%v) lr(%lr)"
    if retention:
        update += " retention(%retention)"
    if order:
        update += " momentum(" + ", ".join(f"%beta{i}" for i in range(order)) + ")"
    rate_types = ", ".join([rate] * (1 + int(retention) + order))
    inits = ", ".join(f"%w{i}" for i in range(len(init_types)))
    num_finals = len(init_types) if streaming else len(layout)
    finals = ", ".join(f"%s#{i}" for i in range(num_finals))
    final_list = init_types if streaming else final_types
    stream_in = stream_op = stream_out = stream_types = ""
    if streaming:
        refs = ", ".join(f"%ref{i}" for i in range(len(layout)))
        stream_in = f" reference({refs} : {', '.join(final_types)})"
        pending_types = ""
        if spec.chunk_aggregated is not None:
            pends = ", ".join(f"%pend{i}" for i in range(len(layout)))
            stream_in += f" pending({pends} : {', '.join(final_types)})"
            pending_types = f" pending({', '.join(final_types)})"
        stream_in += " position(%pos : tensor<i64>)"
        n_stream = len(layout) * (2 if spec.chunk_aggregated is not None else 1) + 1
        stream_op = (f"\n  %st:{n_stream} = nl.stream_state %m : {mem} -> reference({', '.join(final_types)})"
                     f"{pending_types} position tensor<i64>")
        stream_out = ", " + ", ".join(f"%st#{i}" for i in range(n_stream))
        stream_types = ", " + ", ".join(final_types * ((n_stream - 1) // len(layout)) + ["tensor<i64>"])
    return f"""func.func @forward({", ".join(args)})
    -> ({", ".join(results)}) {{
  %m = nl.memory "M" init({inits} : {", ".join(init_types)}){stream_in} {{every = #nl.every<{spec.chunk} tokens>,
      model = {model_attr(spec.model)}, objective = {objective_attr(spec.objective)},
      rule = {rule_attr(spec.rule)}{aggregated}}} : {mem}
  {update} : {mem}, {seq_in}, {seq_out}, {rate_types}
  %y = nl.read %m(%q) at {point} : {mem}, {seq_in}
  %s:{num_finals} = nl.final_state %m : {mem} -> {", ".join(final_list)}{stream_op}
  return %y, {finals}{stream_out} : {seq_out}, {", ".join(final_list)}{stream_types}
}}
"""


def builder_spec(spec: ref.MemorySpec, heads: int, d_in: int, d_out: int, point: str,
                 element: str = "f64", retention: bool = True) -> dict:
    """The same memory level as `memory_function(...)` (not streaming) for `hope-models
    memory-level --memory-spec` (tools/hope-models/MemorySpec.cpp)."""
    model, objective, rule = spec.model, spec.objective, spec.rule
    fields = {"name": "M", "heads": heads, "input_width": d_in, "output_width": d_out,
              "dtype": element, "chunk": spec.chunk, "read_point": point, "retention": retention,
              "lr": rule.lr, "retention_rate": rule.retention,
              "linearize": None if spec.chunk_aggregated is None
              else (spec.chunk_aggregated.linearize or "sequence")}
    if isinstance(model, ref.LinearModel):
        fields["model"] = "linear"
    else:
        fields.update(model="mlp", depth=model.depth, hidden=model.hidden,
                      activation=model.activation, residual=model.residual, norm=model.norm)
    if isinstance(objective, ref.Dot):
        fields["objective"] = "dot"
    else:
        fields.update(objective="l2", reduction=objective.reduction, half=objective.half)
    if isinstance(rule, ref.MomentumGD):
        fields.update(rule="momentum_gd", order=rule.order, newton_schulz=rule.newton_schulz,
                      momentum_rate=rule.momentum)
    else:
        fields.update(rule="dgd", dgd_momentum=rule.momentum, step_size=rule.step_size)
    return fields
