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
                    element: str = "f64", retention: bool = True) -> str:
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
    init_types = [_tensor([heads, *p.shape], e) for p in layout]
    args += [f'%w{i}: {t} {{nl.weight = "M.{state_name(p)}"}}' for i, (p, t) in enumerate(zip(layout, init_types))]
    final_types = [_tensor(["?", heads, *p.shape], e) for p in layout]
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
    inits = ", ".join(f"%w{i}" for i in range(len(layout)))
    finals = ", ".join(f"%s#{i}" for i in range(len(layout)))
    return f"""func.func @forward({", ".join(args)})
    -> ({", ".join(results)}) {{
  %m = nl.memory "M" init({inits} : {", ".join(init_types)}) {{every = #nl.every<{spec.chunk} tokens>,
      model = {model_attr(spec.model)}, objective = {objective_attr(spec.objective)},
      rule = {rule_attr(spec.rule)}{aggregated}}} : {mem}
  {update} : {mem}, {seq_in}, {seq_out}, {rate_types}
  %y = nl.read %m(%q) at {point} : {mem}, {seq_in}
  %s:{len(layout)} = nl.final_state %m : {mem} -> {", ".join(final_types)}
  return %y, {finals} : {seq_out}, {", ".join(final_types)}
}}
"""
