#!/usr/bin/env python3
"""A random-weight DeepSeek-V3.2 of the real widths in DeepSeek's FP8 layout, and transformers'
float32 greedy run on it: real_shape_test's "deepseek_v32" case (see real_shapes.py beside this).

Widths from DeepSeek-V3.2-Exp's config: hidden 7168, 128 heads, q_lora 1536, kv_lora 512, qk 128 +
64, v 128, 256 routed experts (+1 shared) of 2048 with top 8 in 8 groups keeping 4, 64 indexer
heads of 128, vocab 129280, YaRN (factor 40). Four layers: two dense, two MoE. index_topk is 8 so
that the 24 positions of the test attend sparsely. Weights are e4m3 with a float32
weight_scale_inv per 128x128 block, written as four shards and an index, per-expert tensors as
DeepSeek ships them; the bf16 ones stay bf16 (embeddings, lm_head, norms, router, the indexer's
weights_proj). The reference runs in float32 on exactly the dequantised weights.
initializer_range is 0.2 (logits peaked, as real_shapes.py does), the router's 0.01.
Usage: deepseek_real_width.py OUT_DIR   (writes OUT_DIR/deepseek_v32, about 25 GB)
bench/engine/peer_deepseek.py imports write_checkpoint for the benchmark's model (bf16, the real
index_topk of 2048).
"""
import json
import pathlib
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoConfig, AutoModelForCausalLM

PROMPT = [0, 17, 42, 99, 3, 250, 128, 64, 7, 1000, 20000, 31, 5, 77, 12345, 9]
STEPS = 8
BLOCK = 128
KEEP_BF16 = ("embed_tokens", "lm_head", "norm", ".mlp.gate.weight", "weights_proj")
SHAPE = dict(vocab_size=129280, hidden_size=7168, intermediate_size=18432,
             moe_intermediate_size=2048, num_hidden_layers=4, first_k_dense_replace=2,
             num_attention_heads=128, num_key_value_heads=128, q_lora_rank=1536,
             kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128,
             n_routed_experts=256, n_shared_experts=1, num_experts_per_tok=8, n_group=8,
             topk_group=4, routed_scaling_factor=2.5, norm_topk_prob=True, index_n_heads=64,
             index_head_dim=128, index_topk=8, max_position_embeddings=163840,
             rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 40.0,
                              "original_max_position_embeddings": 4096, "beta_fast": 32,
                              "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0},
             initializer_range=0.2, bos_token_id=0, eos_token_id=1, pad_token_id=2,
             tie_word_embeddings=False)


def quantize(w):
    """(e4m3 weight, float32 scale_inv, dequantised float32) for one [rows, cols] matrix."""
    rows, cols = w.shape
    nr, nc = -(-rows // BLOCK), -(-cols // BLOCK)
    padded = torch.zeros(nr * BLOCK, nc * BLOCK, dtype=torch.float32, device=w.device)
    padded[:rows, :cols] = w.float()
    blocks = padded.view(nr, BLOCK, nc, BLOCK)
    scale = blocks.abs().amax(dim=(1, 3)).clamp(min=1e-12) / 448.0
    q = (blocks / scale[:, None, :, None]).to(torch.float8_e4m3fn)
    deq = (q.float() * scale[:, None, :, None]).view(nr * BLOCK, nc * BLOCK)[:rows, :cols]
    return q.view(nr * BLOCK, nc * BLOCK)[:rows, :cols].contiguous(), scale.contiguous(), deq


def write_checkpoint(out, dtype=torch.float32, index_topk=8, attn="eager"):
    """Makes the model on the GPU in `dtype`, writes its FP8 checkpoint to `out`, and returns it
    holding exactly the dequantised weights (rounded to dtype)."""
    out.mkdir(parents=True, exist_ok=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(7)
    config = AutoConfig.for_model("deepseek_v32", **{**SHAPE, "index_topk": index_topk})
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype,
                                                 attn_implementation=attn).eval()
    # initializer_range 0.2 peaks the logits, so greedy choices are not coin flips; the router
    # gets 0.01, or its sigmoids would saturate to exact ties.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("mlp.gate.weight"):
                p.normal_(0.0, 0.01)
    tensors = {}

    def put(name, w):
        if any(k in name for k in KEEP_BF16) or w.dim() == 1:
            kept = w.to(torch.bfloat16) if "correction_bias" not in name else w
            tensors[name] = kept.cpu()
            return kept.to(w.dtype)
        q, s, deq = quantize(w)
        tensors[name] = q.cpu()
        tensors[name + "_scale_inv"] = s.cpu()
        return deq.to(w.dtype)

    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("experts.gate_up_proj"):  # [E, 2I, H] -> per-expert gate, up
                prefix, inter = name[: -len("gate_up_proj")], p.shape[1] // 2
                for e in range(p.shape[0]):
                    p[e, :inter] = put(f"{prefix}{e}.gate_proj.weight", p[e, :inter])
                    p[e, inter:] = put(f"{prefix}{e}.up_proj.weight", p[e, inter:])
            elif name.endswith("experts.down_proj"):
                prefix = name[: -len("down_proj")]
                for e in range(p.shape[0]):
                    p[e] = put(f"{prefix}{e}.down_proj.weight", p[e])
            else:
                p.copy_(put(name, p))
        for name, b in model.named_buffers():
            if name.endswith("e_score_correction_bias"):
                b.copy_(0.05 * torch.randn_like(b))
                tensors[name] = b.float().cpu()
    # Four shards and an index, as a released checkpoint is laid out.
    names = sorted(tensors)
    weight_map, shards = {}, 4
    for i in range(shards):
        part = names[i::shards]
        file = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        save_file({n: tensors[n] for n in part}, out / file, metadata={"format": "pt"})
        weight_map.update({n: file for n in part})
    (out / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    cfg = json.loads(config.to_json_string())
    cfg["quantization_config"] = {"quant_method": "fp8", "fmt": "e4m3",
                                  "activation_scheme": "dynamic", "weight_block_size": [BLOCK, BLOCK]}
    cfg["dtype"] = "bfloat16"
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    del tensors
    return model


def main():
    out = pathlib.Path(sys.argv[1]) / "deepseek_v32"
    model = write_checkpoint(out)
    ids = torch.tensor([PROMPT], device="cuda")
    with torch.no_grad():
        gen = model.generate(ids, max_new_tokens=STEPS, min_new_tokens=STEPS, do_sample=False,
                             output_logits=True, return_dict_in_generate=True, pad_token_id=2)
    steps = []
    for logits in gen.logits:
        lp = torch.log_softmax(logits[0].double(), dim=-1)
        top = torch.topk(lp, 5)
        steps.append({"top_ids": top.indices.tolist(), "top_logprobs": top.values.tolist()})
    new = gen.sequences[0, len(PROMPT):].tolist()
    (out / "expected.json").write_text(json.dumps(
        {"prompt_ids": PROMPT, "greedy_ids": new, "greedy_logprobs": steps}) + "\n")
    print(f"deepseek_v32 (real widths, FP8): greedy {new}", flush=True)


if __name__ == "__main__":
    main()
