#!/usr/bin/env python3
"""Makes the DeepSeek golden data: tiny random DeepSeek-V3 and V3.2 models that transformers writes
with save_pretrained, and transformers' float32 run on each.

Run on the GPU machine (transformers 5.17, torch, safetensors; see README.md next to this file).
It writes tests/golden/data/deepseek/<name>/: the model folder, plus expected.json with the prompt,
transformers' float32 logits at every prompt position, its greedy continuation and top-5 logprobs.

- deepseek_v3: q_lora, YaRN with mscale != mscale_all_dim (so both the rope's attention factor
  and the softmax's mscale² are not 1), interleaved rope, group-limited routing.
- deepseek_v3_no_qlora: a single q_proj (DeepSeek-V2-Lite's layout), plain rope, half-split rope
  (rope_interleave false), unnormalised top-k weights.
- deepseek_v32: the DSA lightning indexer with index_topk 5 below the prompt's 9 tokens.
- deepseek_v32_fp8: the V3.2 model in DeepSeek's FP8 layout: e4m3 weights with a float32
  weight_scale_inv per 32x32 block (edges partial), the layers DeepSeek keeps in bf16 kept so. The
  reference runs on the dequantised weights, as transformers has no FP8 kernels there.

The first three are saved in bf16, to keep the data small; the reference widens the weights to
float32. Both selections the models make by top-k (the router's groups and experts, the indexer's keys)
are checked for a clear margin between the last chosen and the first dropped score: a near-tie
would let float32 rounding order flip a choice. A seed whose margins are too thin is skipped.
Everything runs on the CPU in float32: this is the numerical reference, not a benchmark.
"""
import argparse
import json
import os
import pathlib
import shutil

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModelForCausalLM

PROMPT_IDS = [0, 17, 42, 99, 3, 250, 128, 64, 7]
STEPS = 12
MIN_RELATIVE_MARGIN = 1e-3

COMMON = dict(
    vocab_size=256, hidden_size=48, intermediate_size=40, moe_intermediate_size=16,
    num_hidden_layers=3, first_k_dense_replace=1, num_attention_heads=4, num_key_value_heads=4,
    q_lora_rank=24, kv_lora_rank=16, qk_nope_head_dim=8, qk_rope_head_dim=8, v_head_dim=12,
    n_routed_experts=8, n_shared_experts=1, num_experts_per_tok=3, n_group=4, topk_group=2,
    routed_scaling_factor=2.5, norm_topk_prob=True, max_position_embeddings=256,
    initializer_range=0.2, bos_token_id=0, eos_token_id=1, pad_token_id=2,
    tie_word_embeddings=False)
YARN = {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0,
        "original_max_position_embeddings": 64, "beta_fast": 32, "beta_slow": 1,
        "mscale": 1.0, "mscale_all_dim": 0.8}
MODELS = {
    "deepseek_v3": dict(model_type="deepseek_v3", rope_parameters=YARN, rope_interleave=True),
    "deepseek_v3_no_qlora": dict(
        model_type="deepseek_v3", q_lora_rank=None, n_group=2, topk_group=1,
        norm_topk_prob=False, rope_interleave=False,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
    "deepseek_v32": dict(model_type="deepseek_v32", rope_parameters=YARN, index_n_heads=8,
                         index_head_dim=16, index_topk=5),
}
FP8_BLOCK = [32, 32]
# The weights DeepSeek's FP8 checkpoints keep in bf16 (besides every vector: norms, biases).
KEEP_BF16 = ("model.embed_tokens.weight", "lm_head.weight", ".mlp.gate.weight",
             ".indexer.weights_proj.weight")


def relative_gap(sorted_desc, k):
    """The gap between the k-th and (k+1)-th of each row, relative to the row's largest value.
    Rows with no (k+1)-th choice (the rest masked, at -inf or at the mask's dtype minimum) have
    no margin to keep."""
    finite = sorted_desc[:, k] > -1e30
    gap = (sorted_desc[:, k - 1] - sorted_desc[:, k])[finite]
    scale = sorted_desc[:, 0].abs()[finite] + 1e-6
    return float((gap / scale).min()) if gap.numel() else float("inf")


def indexer_scores(mod, hidden_states, q_resid, position_embeddings, attention_mask):
    """transformers' DeepseekV32Indexer scores before its top-k (the same lines, no cache)."""
    from transformers.models.deepseek_v32.modeling_deepseek_v32 import apply_rotary_pos_emb
    b, s, _ = hidden_states.shape
    cos, sin = position_embeddings
    q = mod.wq_b(q_resid).view(b, s, mod.n_heads, mod.head_dim)
    q_rot, q_pass = torch.split(q, [mod.qk_rope_head_dim, mod.head_dim - mod.qk_rope_head_dim], -1)
    k = mod.k_norm(mod.wk(hidden_states)).unsqueeze(2)
    k_rot, k_pass = torch.split(k, [mod.qk_rope_head_dim, mod.head_dim - mod.qk_rope_head_dim], -1)
    q_rot, k_rot = apply_rotary_pos_emb(q_rot, k_rot, cos, sin, unsqueeze_dim=2)
    q = torch.cat([q_rot, q_pass], -1)
    k = torch.cat([k_rot, k_pass], -1).squeeze(2)
    scores = F.relu(torch.matmul(q.float(), k.transpose(-1, -2).float().unsqueeze(1)) *
                    mod.softmax_scale)
    weights = mod.weights_proj(hidden_states.to(mod.weights_proj.weight.dtype)).float() * (
        mod.n_heads ** -0.5)
    index_scores = torch.matmul(weights.unsqueeze(-2), scores).squeeze(-2)
    if attention_mask.dtype == torch.bool:
        return index_scores.masked_fill(~attention_mask, float("-inf"))
    return index_scores + attention_mask


def selection_margins(model, ids):
    """The thinnest relative margin of every top-k choice the model makes over `ids`."""
    margins = []
    hooks = []
    cfg = model.config

    def router_hook(mod, args, out):
        logits = out[0]
        choice = logits.sigmoid() + mod.e_score_correction_bias
        per_group = cfg.n_routed_experts // cfg.n_group
        groups = choice.view(-1, cfg.n_group, per_group).topk(2, dim=-1)[0].sum(-1)
        if cfg.topk_group < cfg.n_group:
            margins.append(relative_gap(groups.sort(-1, descending=True).values, cfg.topk_group))
        keep = torch.zeros_like(groups).scatter_(1, groups.topk(cfg.topk_group, -1)[1], 1)
        mask = keep.unsqueeze(-1).expand(-1, cfg.n_group, per_group).reshape(-1, cfg.n_routed_experts)
        chosen = choice.masked_fill(~mask.bool(), float("-inf")).sort(-1, descending=True).values
        margins.append(relative_gap(chosen, cfg.num_experts_per_tok))

    def indexer_hook(mod, args, kwargs):
        hidden_states, q_resid, position_embeddings, attention_mask = args[:4]
        scores = indexer_scores(mod, hidden_states, q_resid, position_embeddings, attention_mask)
        flat = scores.reshape(-1, scores.shape[-1]).sort(-1, descending=True).values
        if flat.shape[-1] > mod.index_topk:
            margins.append(relative_gap(flat, mod.index_topk))

    for name, mod in model.named_modules():
        kind = type(mod).__name__
        if kind.endswith("TopkRouter"):
            hooks.append(mod.register_forward_hook(router_hook))
        elif kind.endswith("Indexer"):
            hooks.append(mod.register_forward_pre_hook(indexer_hook, with_kwargs=True))
    with torch.no_grad():
        model(torch.tensor([ids]), use_cache=False)
    for h in hooks:
        h.remove()
    return min(margins) if margins else float("inf")


def greedy(model, ids):
    out = model.generate(torch.tensor([ids]), max_new_tokens=STEPS, do_sample=False,
                         output_logits=True, return_dict_in_generate=True,
                         eos_token_id=model.config.eos_token_id, pad_token_id=2)
    new = out.sequences[0, len(ids):].tolist()
    steps = []
    for logits in out.logits:
        lp = torch.log_softmax(logits[0].double(), dim=-1)
        top = torch.topk(lp, 5)
        steps.append({"top_ids": top.indices.tolist(), "top_logprobs": top.values.tolist()})
    return new, steps


def quantize_block(w, block):
    """e4m3 weight and float32 scale_inv (w ≈ q * scale_inv) per block of the last two dims."""
    br, bc = block
    *lead, rows, cols = w.shape
    nr, nc = -(-rows // br), -(-cols // bc)
    padded = torch.zeros(*lead, nr * br, nc * bc, dtype=torch.float32)
    padded[..., :rows, :cols] = w.float()
    blocks = padded.view(*lead, nr, br, nc, bc)
    amax = blocks.abs().amax(dim=(-3, -1)).clamp(min=1e-12)  # [..., nr, nc]
    scale = amax / 448.0
    q = (blocks / scale[..., :, None, :, None]).to(torch.float8_e4m3fn)
    deq = (q.float() * scale[..., :, None, :, None]).view(*lead, nr * br, nc * bc)
    q = q.view(*lead, nr * br, nc * bc)[..., :rows, :cols].contiguous()
    return q, scale.contiguous(), deq[..., :rows, :cols].contiguous()


def write_fp8_copy(src, dst):
    """DeepSeek's FP8 layout of the model in `src`; returns the dequantised state dict."""
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.name not in ("model.safetensors", "expected.json"):
            shutil.copy(f, dst / f.name)
    tensors = load_file(src / "model.safetensors")
    out, dequantised = {}, {}
    for name, t in tensors.items():
        quantise = (t.dim() >= 2 and name.endswith("weight") and
                    not any(name.endswith(k) or k in name for k in KEEP_BF16))
        if quantise:
            q, scale, deq = quantize_block(t, FP8_BLOCK)
            out[name] = q
            out[name + "_scale_inv"] = scale
            dequantised[name] = deq
        else:
            kept = t.to(torch.bfloat16) if t.is_floating_point() and "correction_bias" not in name else t
            out[name] = kept
            dequantised[name] = kept.float()
    save_file(out, dst / "model.safetensors", metadata={"format": "pt"})
    config = json.loads((dst / "config.json").read_text())
    config["quantization_config"] = {"quant_method": "fp8", "fmt": "e4m3",
                                     "activation_scheme": "dynamic",
                                     "weight_block_size": FP8_BLOCK}
    (dst / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return dequantised


def build(name, extra, seed):
    torch.manual_seed(seed)
    kwargs = dict(COMMON)
    kwargs.update({k: v for k, v in extra.items() if k != "model_type"})
    config = AutoConfig.for_model(extra["model_type"], **kwargs)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager").eval()
    # Random init leaves norms at 1, biases and the router's correction bias at 0: move them, so a
    # norm weight read wrong or a bias used where it must not be changes the answer.
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "norm" in pname and pname.endswith("weight"):
                p.add_(0.2 * torch.randn_like(p))
            elif "norm" in pname and pname.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
        for bname, b in model.named_buffers():
            if bname.endswith("e_score_correction_bias"):
                b.copy_(0.2 * torch.randn_like(b))
    return model


def record(d, ref, note):
    with torch.no_grad():
        logits = ref(torch.tensor([PROMPT_IDS])).logits[0]
    new, steps = greedy(ref, PROMPT_IDS)
    margin = selection_margins(ref, PROMPT_IDS + new)
    (d / "expected.json").write_text(json.dumps({
        "prompt_ids": PROMPT_IDS, "greedy_ids": new, "greedy_logprobs": steps,
        "logits": [[round(float(x), 7) for x in row] for row in logits],
        "min_selection_margin": margin, "note": note}) + "\n")
    names = sorted(load_file(d / "model.safetensors").keys())
    print(f"{d.name}: greedy {new}, margin {margin:.2e}, {len(names)} tensors, e.g. "
          f"{[n for n in names if 'layers.1.' in n][:40]}")
    return margin


def make(out, name, extra):
    for seed in range(1, 40):
        model = build(name, extra, seed)
        if selection_margins(model, PROMPT_IDS + list(range(10, 10 + STEPS))) < MIN_RELATIVE_MARGIN:
            continue
        d = out / name
        shutil.rmtree(d, ignore_errors=True)
        save_dtype = torch.bfloat16  # keeps the data small; the reference widens it to float32
        model.to(save_dtype).save_pretrained(d)
        ref = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32,
                                                   attn_implementation="eager").eval()
        if record(d, ref, f"seed {seed}, saved as {save_dtype}") < MIN_RELATIVE_MARGIN:
            continue
        if name == "deepseek_v32":
            fp8 = out / "deepseek_v32_fp8"
            shutil.rmtree(fp8, ignore_errors=True)
            dequantised = write_fp8_copy(d, fp8)
            # The reference loads the dequantised tensors through from_pretrained, so its own
            # checkpoint conversions (per-expert tensors to fused ones) apply as for any folder.
            plain = out / ".fp8_dequantised"
            shutil.rmtree(plain, ignore_errors=True)
            shutil.copytree(d, plain)
            save_file(dequantised, plain / "model.safetensors", metadata={"format": "pt"})
            ref8 = AutoModelForCausalLM.from_pretrained(plain, dtype=torch.float32,
                                                        attn_implementation="eager").eval()
            shutil.rmtree(plain)
            if record(fp8, ref8, f"seed {seed}, e4m3 with {FP8_BLOCK} blocks; reference on "
                      "the dequantised weights") < MIN_RELATIVE_MARGIN:
                continue
        return
    raise SystemExit(f"{name}: no seed gave clear selection margins")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "data" / "deepseek"))
    args = ap.parse_args()
    torch.set_num_threads(min(8, os.cpu_count() or 1))
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, extra in MODELS.items():
        make(out, name, extra)


if __name__ == "__main__":
    main()
