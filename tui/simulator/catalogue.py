"""The simulator's model catalogue: built-in installed and remote models, and `/api/show` bodies.

Stdlib only, no textual. Everything is deterministic: digests are SHA-256 of the layer content
(text layers) or of a seed string (model weights).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from tui.simulator.support import go_value, modelfile_value

BLOB_DIR = "/usr/share/ollama/.ollama/models/blobs"


@dataclass(frozen=True)
class Layer:
    digest: str  # 64 hex chars, no "sha256:" prefix
    size: int
    kind: str  # model | projector | template | system | license | params | messages | config


@dataclass
class ModelSpec:
    """Everything a manifest points at, flattened."""

    arch: str
    family: str
    parameter_size: str
    parameter_count: int
    quantization_level: str
    capabilities: list[str]
    context_length: int
    embedding_length: int
    block_count: int
    head_count: int
    head_count_kv: int
    layers: list[Layer]
    template: str = ""
    system: str = ""
    license: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)
    families: list[str] | None = None
    parent_model: str = ""
    format: str = "gguf"
    gpu_fraction: float = 1.0
    projector: dict[str, Any] | None = None

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers)

    @property
    def digest(self) -> str:
        """The manifest digest (what /api/tags and /api/ps show)."""
        blob = json.dumps([[layer.digest, layer.size] for layer in self.layers]).encode()
        return hashlib.sha256(blob).hexdigest()

    def details(self) -> dict[str, Any]:
        return {
            "parent_model": self.parent_model,
            "format": self.format,
            "family": self.family,
            "families": list(self.families) if self.families is not None else [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization_level,
        }

    def layer(self, kind: str) -> Layer | None:
        return next((layer for layer in self.layers if layer.kind == kind), None)


def sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def text_layer(kind: str, text: str) -> Layer:
    data = text.encode()
    return Layer(sha(data), len(data), kind)


def params_blob(params: dict[str, Any]) -> str:
    return json.dumps(params, separators=(",", ":"), ensure_ascii=False)


def config_layer(spec_seed: str, details: dict[str, Any]) -> Layer:
    blob = json.dumps({"model_format": "gguf", "seed": spec_seed, **details}, sort_keys=True)
    return text_layer("config", blob)


def build_layers(
    seed: str,
    *,
    model_size: int,
    projector_size: int = 0,
    template: str = "",
    system: str = "",
    license: str = "",
    parameters: dict[str, Any] | None = None,
    messages: list[dict] | None = None,
    details: dict[str, Any] | None = None,
) -> list[Layer]:
    layers = [Layer(sha(f"{seed}:model"), model_size, "model")]
    if projector_size:
        layers.append(Layer(sha(f"{seed}:projector"), projector_size, "projector"))
    if template:
        layers.append(text_layer("template", template))
    if system:
        layers.append(text_layer("system", system))
    if license:
        layers.append(text_layer("license", license))
    if parameters:
        layers.append(text_layer("params", params_blob(parameters)))
    if messages:
        layers.append(text_layer("messages", json.dumps(messages)))
    layers.append(config_layer(seed, details or {}))
    return layers


# --------------------------------------------------------------------------- texts

LLAMA_TEMPLATE = """<|start_header_id|>system<|end_header_id|>

Cutting Knowledge Date: December 2023
{{ if .System }}{{ .System }}{{ end }}<|eot_id|>
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
<|start_header_id|>{{ .Role }}<|end_header_id|>

{{ .Content }}{{ if $last }}<|eot_id|><|start_header_id|>assistant<|end_header_id|>

{{ end }}
{{- end }}"""

CHATML_THINK_TEMPLATE = """{{- if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 -}}
<|im_start|>{{ .Role }}
{{ if and $last .Thinking }}<think>{{ .Thinking }}</think>{{ end }}{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
{{ if and $.IsThinkSet (not $.Think) }}<think>

</think>

{{ end }}"""

INST_TEMPLATE = """[INST] {{ if .System }}{{ .System }} {{ end }}{{ .Prompt }} [/INST]"""

GEMMA_TEMPLATE = """{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if or (eq .Role "user") (eq .Role "system") }}<start_of_turn>user
{{ .Content }}<end_of_turn>
{{ if $last }}<start_of_turn>model
{{ end }}
{{- else if eq .Role "assistant" }}<start_of_turn>model
{{ .Content }}{{ if not $last }}<end_of_turn>
{{ end }}
{{- end }}
{{- end }}"""

ZEPHYR_TEMPLATE = """<|system|>
{{ .System }}</s>
<|user|>
{{ .Prompt }}</s>
<|assistant|>
"""


def community_license(model: str, year: int = 2024) -> str:
    """A long, multi-line, clearly simulated license text."""
    sections = [
        ("Definitions", "“Agreement” means the terms and conditions for use, reproduction, distribution "
         "and modification of the Materials set forth herein. “Materials” means, collectively, the "
         "simulated model weights, inference code and documentation made available under this Agreement."),
        ("License Rights and Redistribution", "You are granted a non-exclusive, worldwide, non-transferable "
         "and royalty-free limited license under the Licensor's intellectual property to use, reproduce, "
         "distribute, copy, create derivative works of, and make modifications to the Materials."),
        ("Additional Commercial Terms", "If, on the release date, the monthly active users of the products "
         "or services made available by or for Licensee exceed 700 million, you must request a license."),
        ("Disclaimer of Warranty", "UNLESS REQUIRED BY APPLICABLE LAW, THE MATERIALS AND ANY OUTPUT AND "
         "RESULTS THEREFROM ARE PROVIDED ON AN “AS IS” BASIS, WITHOUT WARRANTIES OF ANY KIND."),
        ("Limitation of Liability", "IN NO EVENT WILL THE LICENSOR OR ITS AFFILIATES BE LIABLE UNDER ANY "
         "THEORY OF LIABILITY ARISING OUT OF THIS AGREEMENT FOR ANY LOST PROFITS OR INDIRECT DAMAGES."),
        ("Intellectual Property", "No trademark licenses are granted under this Agreement. Derivative works "
         "you make remain yours, subject to the Licensor's ownership of the Materials."),
        ("Term and Termination", "The term of this Agreement commences upon your acceptance and continues "
         "until terminated. The Licensor may terminate it if you breach any term or condition."),
        ("Governing Law and Jurisdiction", "This Agreement is governed by the laws of the State of "
         "California without regard to choice of law principles."),
    ]
    lines = [f"{model.upper()} COMMUNITY LICENSE AGREEMENT (SIMULATED)", f"Release Date: September {year}", ""]
    for i, (title, body) in enumerate(sections, 1):
        lines.append(f"{i}. {title}.")
        words = body.split()
        line = "   "
        for w in words:
            if len(line) + len(w) > 92:
                lines.append(line.rstrip())
                line = "   "
            line += w + " "
        lines.append(line.rstrip())
        lines.append("")
    lines.append(f"{model} is licensed under this simulated agreement, Copyright © {year}. All Rights Reserved.")
    return "\n".join(lines)


APACHE_LICENSE = """                                 Apache License
                           Version 2.0, January 2004
                        http://www.apache.org/licenses/

   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION

   1. Definitions.

      "License" shall mean the terms and conditions for use, reproduction,
      and distribution as defined by Sections 1 through 9 of this document.

      "Licensor" shall mean the copyright owner or entity authorized by
      the copyright owner that is granting the License.

   2. Grant of Copyright License. Subject to the terms and conditions of
      this License, each Contributor hereby grants to You a perpetual,
      worldwide, non-exclusive, no-charge, royalty-free, irrevocable
      copyright license to reproduce, prepare Derivative Works of,
      publicly display, publicly perform, sublicense, and distribute the
      Work and such Derivative Works in Source or Object form.

   (simulated excerpt; see the full text at the address above)"""

MIT_LICENSE = """MIT License

Copyright (c) 2023 (simulated)

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND."""


# --------------------------------------------------------------------------- catalogue


def make_spec(seed: str, *, model_size: int, projector_size: int = 0, **kw: Any) -> ModelSpec:
    spec = ModelSpec(layers=[], **kw)
    spec.layers = build_layers(
        seed,
        model_size=model_size,
        projector_size=projector_size,
        template=spec.template,
        system=spec.system,
        license=spec.license,
        parameters=spec.parameters,
        messages=spec.messages,
        details=spec.details(),
    )
    return spec


def _catalogue() -> dict[str, ModelSpec]:
    llama = dict(arch="llama", family="llama", head_count=24, head_count_kv=8)
    return {
        "llama3.2:latest": make_spec(
            "llama3.2:latest", model_size=2_019_377_376, **llama,
            parameter_size="3.2B", parameter_count=3_212_749_888, quantization_level="Q4_K_M",
            capabilities=["completion", "tools"], context_length=131072, embedding_length=3072,
            block_count=28, template=LLAMA_TEMPLATE, license=community_license("Llama 3.2"),
            parameters={"stop": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]},
        ),
        "llava:7b": make_spec(
            "llava:7b", model_size=4_113_289_856, projector_size=624_434_368,
            arch="llama", family="llama", families=["llama", "clip"], head_count=32, head_count_kv=8,
            parameter_size="7B", parameter_count=7_241_732_096, quantization_level="Q4_0",
            capabilities=["completion", "vision"], context_length=32768, embedding_length=4096,
            block_count=32, template=INST_TEMPLATE,
            system="You are a helpful vision assistant. Describe images accurately and concisely.",
            license=APACHE_LICENSE, parameters={"stop": ["[INST]", "[/INST]"]},
            projector={
                "general.architecture": "clip", "clip.has_llava_projector": True,
                "clip.vision.image_size": 336, "clip.vision.patch_size": 14,
                "clip.vision.embedding_length": 1024, "clip.vision.block_count": 23,
                "clip.vision.attention.head_count": 16, "clip.vision.projection_dim": 768,
            },
        ),
        "qwen3:8b": make_spec(
            "qwen3:8b", model_size=5_225_375_264, arch="qwen3", family="qwen3",
            head_count=32, head_count_kv=8, parameter_size="8.2B", parameter_count=8_190_735_360,
            quantization_level="Q4_K_M", capabilities=["completion", "tools", "thinking"],
            context_length=40960, embedding_length=4096, block_count=36,
            template=CHATML_THINK_TEMPLATE, license=APACHE_LICENSE, gpu_fraction=0.78,
            parameters={"repeat_penalty": 1, "stop": ["<|im_start|>", "<|im_end|>"],
                        "temperature": 0.6, "top_k": 20, "top_p": 0.95},
        ),
        "nomic-embed-text:latest": make_spec(
            "nomic-embed-text:latest", model_size=274_290_656, arch="nomic-bert", family="nomic-bert",
            head_count=12, head_count_kv=12, parameter_size="137M", parameter_count=136_727_040,
            quantization_level="F16", capabilities=["embedding"], context_length=2048,
            embedding_length=768, block_count=12, license=APACHE_LICENSE,
            parameters={"num_ctx": 8192},
        ),
        "mistral:7b": make_spec(
            "mistral:7b", model_size=4_372_812_000, arch="llama", family="llama",
            head_count=32, head_count_kv=8, parameter_size="7.2B", parameter_count=7_248_023_552,
            quantization_level="Q4_K_M", capabilities=["completion", "tools"], context_length=32768,
            embedding_length=4096, block_count=32, template=INST_TEMPLATE, license=APACHE_LICENSE,
            parameters={"stop": ["[INST]", "[/INST]"]},
        ),
        "gemma3:4b": make_spec(
            "gemma3:4b", model_size=3_338_792_448, arch="gemma3", family="gemma3",
            head_count=8, head_count_kv=4, parameter_size="4.3B", parameter_count=4_300_079_472,
            quantization_level="Q4_K_M", capabilities=["completion", "vision"], context_length=131072,
            embedding_length=2560, block_count=34, template=GEMMA_TEMPLATE,
            license=community_license("Gemma", 2025),
            parameters={"stop": ["<end_of_turn>"], "temperature": 1, "top_k": 64, "top_p": 0.95},
        ),
        "tinyllama:latest": make_spec(
            "tinyllama:latest", model_size=637_699_456, arch="llama", family="llama",
            head_count=32, head_count_kv=4, parameter_size="1B", parameter_count=1_100_048_384,
            quantization_level="Q4_0", capabilities=["completion"], context_length=2048,
            embedding_length=2048, block_count=22, template=ZEPHYR_TEMPLATE,
            system="You are a helpful AI assistant.", license=MIT_LICENSE,
            parameters={"stop": ["<|system|>", "<|user|>", "<|assistant|>", "</s>"]},
        ),
    }


def _long_named() -> dict[str, ModelSpec]:
    """Models with the long names people really have (a long tag, an hf.co repository): in the
    registry to pull; `Simulator.install(*LONG_NAMED)` installs them at once (tests, snapshots)."""
    qwen2: dict[str, Any] = {"arch": "qwen2", "family": "qwen2", "template": CHATML_THINK_TEMPLATE,
                             "license": APACHE_LICENSE, "parameters": {"stop": ["<|im_start|>", "<|im_end|>"]}}
    return {
        "qwen2.5-coder:7b": make_spec(
            "qwen2.5-coder:7b", model_size=4_683_087_332, **qwen2, head_count=28, head_count_kv=4,
            parameter_size="7.6B", parameter_count=7_615_616_512, quantization_level="Q4_K_M",
            capabilities=["completion", "tools", "insert"], context_length=32768,
            embedding_length=3584, block_count=28,
        ),
        "qwen2.5-coder:32b-instruct-q4_K_M": make_spec(
            "qwen2.5-coder:32b-instruct-q4_K_M", model_size=19_851_336_480, **qwen2, head_count=40,
            head_count_kv=8, parameter_size="32.8B", parameter_count=32_763_876_352,
            quantization_level="Q4_K_M", capabilities=["completion", "tools", "insert"],
            context_length=32768, embedding_length=5120, block_count=64,
        ),
        "deepseek-r1:14b-qwen-distill-q4_K_M": make_spec(
            "deepseek-r1:14b-qwen-distill-q4_K_M", model_size=8_988_110_976, **qwen2, head_count=40,
            head_count_kv=8, parameter_size="14.8B", parameter_count=14_770_033_664,
            quantization_level="Q4_K_M", capabilities=["completion", "thinking"],
            context_length=131072, embedding_length=5120, block_count=48,
        ),
        "hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M": make_spec(
            "hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M", model_size=2_019_377_376,
            arch="llama", family="llama", head_count=24, head_count_kv=8, parameter_size="3.2B",
            parameter_count=3_212_749_888, quantization_level="Q4_K_M",
            capabilities=["completion", "tools"], context_length=131072, embedding_length=3072,
            block_count=28, template=LLAMA_TEMPLATE, license=community_license("Llama 3.2"),
            parameters={"stop": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]},
        ),
    }


LONG_NAMED = {  # name -> age in days (for modified_at), when installed by `Simulator.install`
    "qwen2.5-coder:7b": 3.2,
    "qwen2.5-coder:32b-instruct-q4_K_M": 6.4,
    "deepseek-r1:14b-qwen-distill-q4_K_M": 9.5,
    "hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M": 20.1,
}

INSTALLED_AT_START = {  # name -> age in days (for modified_at)
    "llama3.2:latest": 2.3,
    "qwen3:8b": 5.1,
    "llava:7b": 12.7,
    "nomic-embed-text:latest": 41.0,
}


def builtin_catalogue() -> dict[str, ModelSpec]:
    return {**_catalogue(), **_long_named()}


def updated_spec(spec: ModelSpec, seed: str) -> ModelSpec:
    """A newer version of a model: new weights blob (same size) and a new config blob."""
    layers = []
    for layer in spec.layers:
        if layer.kind == "model":
            layer = Layer(sha(f"{seed}:model"), layer.size, "model")
        elif layer.kind == "config":
            layer = Layer(sha(f"{seed}:config"), layer.size, "config")
        layers.append(layer)
    return replace(spec, layers=layers)


def custom_spec(name: str, sizes: list[int], details: dict[str, Any]) -> ModelSpec:
    """A remote model made by `Simulator.add_remote_model`: the given blob sizes, in order."""
    middle = ["template", "license", "params", "system", "messages"]
    kinds = ["model"] + [middle[i % len(middle)] for i in range(max(0, len(sizes) - 2))]
    if len(sizes) > 1:
        kinds.append("config")
    layers = [Layer(sha(f"{name}:{i}:{kind}"), int(size), kind) for i, (kind, size) in enumerate(zip(kinds, sizes))]
    caps = list(details.pop("capabilities", ["completion"]))
    family = str(details.pop("family", "llama"))
    spec = ModelSpec(
        arch=str(details.pop("arch", family)),
        family=family,
        parameter_size=str(details.pop("parameter_size", "1B")),
        parameter_count=int(details.pop("parameter_count", 1_000_000_000)),
        quantization_level=str(details.pop("quantization_level", "Q4_K_M")),
        capabilities=caps,
        context_length=int(details.pop("context_length", 8192)),
        embedding_length=int(details.pop("embedding_length", 2048)),
        block_count=int(details.pop("block_count", 16)),
        head_count=int(details.pop("head_count", 16)),
        head_count_kv=int(details.pop("head_count_kv", 8)),
        layers=layers,
    )
    for key, value in details.items():
        if hasattr(spec, key):
            setattr(spec, key, value)
    return spec


# --------------------------------------------------------------------------- show / ps helpers

_FILE_TYPES = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q4_K_S": 14, "Q4_K_M": 15, "Q5_K_M": 17, "Q6_K": 18}


def model_info(spec: ModelSpec, verbose: bool) -> dict[str, Any]:
    a = spec.arch
    vocab = 151936 if a == "qwen3" else 128256 if a == "llama" else 30522
    tokens = [f"<tok{i}>" for i in range(64)]
    info: dict[str, Any] = {
        "general.architecture": a,
        "general.basename": spec.family,
        "general.file_type": _FILE_TYPES.get(spec.quantization_level, 15),
        "general.parameter_count": spec.parameter_count,
        "general.quantization_version": 2,
        "general.size_label": spec.parameter_size,
        f"{a}.attention.head_count": spec.head_count,
        f"{a}.attention.head_count_kv": spec.head_count_kv,
        f"{a}.attention.layer_norm_rms_epsilon": 1e-05,
        f"{a}.block_count": spec.block_count,
        f"{a}.context_length": spec.context_length,
        f"{a}.embedding_length": spec.embedding_length,
        f"{a}.feed_forward_length": spec.embedding_length * 3,
        f"{a}.rope.freq_base": 500000,
        "tokenizer.ggml.bos_token_id": 1,
        "tokenizer.ggml.eos_token_id": 2,
        "tokenizer.ggml.model": "gpt2" if a != "nomic-bert" else "bert",
        "tokenizer.ggml.merges": tokens if verbose else [],
        "tokenizer.ggml.token_type": [1] * 64 if verbose else [],
        "tokenizer.ggml.tokens": tokens if verbose else [],
    }
    if a != "nomic-bert":
        info[f"{a}.vocab_size"] = vocab
    else:
        info[f"{a}.pooling_type"] = 1
    return dict(sorted(info.items()))


def tensors(spec: ModelSpec) -> list[dict[str, Any]]:
    e = spec.embedding_length
    kv = e * spec.head_count_kv // max(1, spec.head_count)
    ff = e * 3
    q = "Q4_K" if spec.quantization_level.startswith("Q4") else spec.quantization_level
    out = [{"name": "token_embd.weight", "type": "Q6_K", "shape": [e, 128256]}]
    for b in range(spec.block_count):
        p = f"blk.{b}."
        out += [
            {"name": p + "attn_k.weight", "type": q, "shape": [e, kv]},
            {"name": p + "attn_norm.weight", "type": "F32", "shape": [e]},
            {"name": p + "attn_output.weight", "type": q, "shape": [e, e]},
            {"name": p + "attn_q.weight", "type": q, "shape": [e, e]},
            {"name": p + "attn_v.weight", "type": "Q6_K", "shape": [e, kv]},
            {"name": p + "ffn_down.weight", "type": "Q6_K", "shape": [ff, e]},
            {"name": p + "ffn_gate.weight", "type": q, "shape": [e, ff]},
            {"name": p + "ffn_norm.weight", "type": "F32", "shape": [e]},
            {"name": p + "ffn_up.weight", "type": q, "shape": [e, ff]},
        ]
    out.append({"name": "output_norm.weight", "type": "F32", "shape": [e]})
    return out


def parameters_text(params: dict[str, Any]) -> str:
    lines = []
    for k, v in params.items():
        for item in v if isinstance(v, list) else [v]:
            lines.append(f"{k:<30} {go_value(item)}")
    return "\n".join(lines)


def modelfile(short_name: str, spec: ModelSpec) -> str:
    out = [
        '# Modelfile generated by "ollama show"',
        "# To build a new Modelfile based on this, replace FROM with:",
        f"# FROM {short_name}",
        "",
    ]
    for layer in spec.layers:
        if layer.kind in ("model", "projector"):
            out.append(f"FROM {BLOB_DIR}/sha256-{layer.digest}")
    if spec.template:
        out.append(f'TEMPLATE """{spec.template}"""')
    if spec.system:
        out.append(f'SYSTEM """{spec.system}"""')
    for k, v in spec.parameters.items():
        for item in v if isinstance(v, list) else [v]:
            out.append(f"PARAMETER {k} {modelfile_value(item)}")
    if spec.license:
        out.append(f'LICENSE """{spec.license}"""')
    for m in spec.messages:
        out.append(f"MESSAGE {m.get('role', 'user')} {m.get('content', '')}")
    return "\n".join(out) + "\n"


def show_response(short_name: str, spec: ModelSpec, modified_at: str, verbose: bool) -> dict[str, Any]:
    resp: dict[str, Any] = {}
    if spec.license:
        resp["license"] = spec.license
    resp["modelfile"] = modelfile(short_name, spec)
    if spec.parameters:
        resp["parameters"] = parameters_text(spec.parameters)
    if spec.template:
        resp["template"] = spec.template
    if spec.system:
        resp["system"] = spec.system
    resp["details"] = spec.details()
    if spec.messages:
        resp["messages"] = [{"role": m.get("role"), "content": m.get("content", "")} for m in spec.messages]
    resp["model_info"] = model_info(spec, verbose)
    if spec.projector:
        resp["projector_info"] = dict(spec.projector)
    resp["tensors"] = tensors(spec)
    resp["capabilities"] = list(spec.capabilities)
    resp["modified_at"] = modified_at
    return resp


def kv_cache_bytes(spec: ModelSpec, num_ctx: int) -> int:
    kv_dim = spec.embedding_length * spec.head_count_kv // max(1, spec.head_count)
    return num_ctx * spec.block_count * 2 * kv_dim * 2


def runtime_size(spec: ModelSpec, num_ctx: int) -> tuple[int, int]:
    """(size, size_vram) of a loaded model as /api/ps reports them."""
    size = spec.size + kv_cache_bytes(spec, num_ctx) + 268_435_456
    return size, int(size * spec.gpu_fraction)
