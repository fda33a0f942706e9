#!/usr/bin/env python3
"""Random-weight models of real shapes, and transformers' greedy run on each: the end-to-end
golden data for the CUDA backend at full size (tests/actors/engine/cuda/real_shape_test.cpp).

Run on the GPU machine (tests/gpu_test.sh does): too big to keep in the repository, so the models
are made fresh in a scratch folder each time, from a fixed seed. Shapes: Llama-3.2-1B (llama3
RoPE scaling, tied embeddings), Qwen2.5-0.5B (QKV bias) and Qwen3-0.6B (QK-norm, head_dim 128).
Weights are saved in bf16, as released checkpoints are; the reference computes in float32 from
the saved weights, as our float32 path does. initializer_range 0.2 makes the logits peaked (std
~10), so greedy choices are not coin flips between near-equal logits.
Usage: real_shapes.py OUT_DIR
"""
import json
import pathlib
import sys

import torch
from transformers import AutoConfig, AutoModelForCausalLM

SHAPES = {
    "llama": dict(model_type="llama", vocab_size=128256, hidden_size=2048, intermediate_size=8192,
                  num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8,
                  head_dim=64, tie_word_embeddings=True, max_position_embeddings=131072,
                  rope_parameters=dict(rope_type="llama3", rope_theta=500000.0, factor=32.0,
                                       low_freq_factor=1.0, high_freq_factor=4.0,
                                       original_max_position_embeddings=8192)),
    "qwen2": dict(model_type="qwen2", vocab_size=151936, hidden_size=896, intermediate_size=4864,
                  num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                  tie_word_embeddings=True, max_position_embeddings=32768,
                  rope_parameters=dict(rope_type="default", rope_theta=1000000.0)),
    "qwen3": dict(model_type="qwen3", vocab_size=151936, hidden_size=1024, intermediate_size=3072,
                  num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8,
                  head_dim=128, tie_word_embeddings=True, max_position_embeddings=40960,
                  rope_parameters=dict(rope_type="default", rope_theta=1000000.0)),
}
PROMPT = [1, 17, 42, 99, 3, 250, 128, 64, 7, 1000, 20000, 31, 5, 77, 12345, 9]
STEPS = 8


def main():
    out = pathlib.Path(sys.argv[1])
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    for arch, shape in SHAPES.items():
        torch.manual_seed(99)
        kwargs = {k: v for k, v in shape.items() if k != "model_type"}
        config = AutoConfig.for_model(shape["model_type"], initializer_range=0.2, bos_token_id=1,
                                      eos_token_id=2, pad_token_id=0, **kwargs)
        with torch.device("cuda"):
            model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16).eval()
        d = out / arch
        d.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(d)
        del model
        ref = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32,
                                                   attn_implementation="eager").cuda().eval()
        ids = torch.tensor([PROMPT], device="cuda")
        with torch.no_grad():
            gen = ref.generate(ids, max_new_tokens=STEPS, min_new_tokens=STEPS, do_sample=False,
                               output_logits=True, return_dict_in_generate=True, pad_token_id=0)
        steps = []
        for logits in gen.logits:
            lp = torch.log_softmax(logits[0].double(), dim=-1)
            top = torch.topk(lp, 5)
            steps.append({"top_ids": top.indices.tolist(), "top_logprobs": top.values.tolist()})
        new = gen.sequences[0, len(PROMPT):].tolist()
        (d / "expected.json").write_text(json.dumps(
            {"prompt_ids": PROMPT, "greedy_ids": new, "greedy_logprobs": steps}) + "\n")
        print(f"{arch}: greedy {new}", flush=True)
        del ref
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
