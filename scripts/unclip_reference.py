"""Reference outputs of the unCLIP samplers for tests/unit/unclip-pipeline.test.ts.

Runs the Python sampling loops the site must match (training/recipes/unclip_prior.py and
unclip_decoder.py `sample`) on the shipped ONNX files with onnxruntime, and records the starting
noise each loop drew (torch's generator cannot be reproduced in TypeScript, so the test feeds it in).
Rerun after the weights change: .venv/bin/python scripts/unclip_reference.py
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the training package, from any directory

from training.export import cpu_session, sha256
from training.recipes import unclip_decoder as dec
from training.recipes import unclip_prior as pri
from training.tokenizer import WordTokenizer

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "public" / "weights"
OUT = ROOT / "tests" / "fixtures" / "unclip_reference.json"
PROMPT = "beating heart"  # a held-out caption
PRIOR_STEPS, DECODER_STEPS, SEED = 5, 5, 0


class OnnxClipText:
    """clip_text.onnx behind the `clip.text(ids)` call that mini_sd.encode_prompts makes."""

    def __init__(self, path: Path):
        self.sess = cpu_session(path)

    def text(self, ids: torch.Tensor):
        h, e = self.sess.run(["last_hidden_state", "text_embeds"], {"input_ids": ids.numpy().astype(np.int64)})
        return torch.from_numpy(h), torch.from_numpy(e)


class OnnxVaeDecoder:
    """emoji_vae_decoder.onnx as the `vae.decoder(z)` call of unclip_decoder.sample."""

    def __init__(self, path: Path):
        self.sess = cpu_session(path)

    def decoder(self, z: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.sess.run(["sample"], {"latent_sample": z.numpy()})[0])


def main() -> None:
    from training.recipes.mini_sd import encode_prompts

    manifest = json.loads((WEIGHTS / "manifest.json").read_text())
    m = manifest["models"]
    files = {k: WEIGHTS / m[k]["file"] for k in ("clip_text", "unclip_prior", "unclip_decoder", "vae_decoder")}
    tok = WordTokenizer.load(WEIGHTS / m["clip_text"]["tokenizer"]["file"])
    clip = OnnxClipText(files["clip_text"])
    hidden, embeds = encode_prompts(clip, tok, [PROMPT])
    empty = encode_prompts(clip, tok, [""])
    prior_guidance = m["unclip_prior"]["recommended_sampling"]["guidance_scale"]
    decoder_guidance = m["unclip_decoder"]["recommended_sampling"]["guidance_scale"]
    # ddim_sample's first draw is torch.randn(shape, generator): the same draw, recorded.
    prior_noise = torch.randn((1, pri.PRIOR.embed_dim), generator=torch.Generator().manual_seed(SEED))
    embedding = pri.sample(pri.onnx_prior(files["unclip_prior"]), hidden, embeds, empty, prior_guidance, SEED, PRIOR_STEPS)
    shape = (1, dec.DECODER.unet.in_channels, dec.DECODER.unet.sample_size, dec.DECODER.unet.sample_size)
    decoder_noise = torch.randn(shape, generator=torch.Generator().manual_seed(SEED))
    scale = m["vae_decoder"]["scaling_factor"]
    image = dec.sample(dec.onnx_decoder(files["unclip_decoder"]), OnnxVaeDecoder(files["vae_decoder"]), scale, embedding,
                       decoder_guidance, SEED, DECODER_STEPS)
    reference = {
        "provenance": "scripts/unclip_reference.py: training/recipes/unclip_{prior,decoder}.py sample() on the shipped ONNX files, onnxruntime CPU",
        "onnx_sha256": {k: sha256(p) for k, p in files.items()},
        "prompt": PROMPT,
        "prior": {"steps": PRIOR_STEPS, "guidance_scale": prior_guidance, "latents": prior_noise.flatten().tolist(),
                  "image_embeds": embedding.flatten().tolist()},
        "decoder": {"steps": DECODER_STEPS, "guidance_scale": decoder_guidance, "latents": decoder_noise.flatten().tolist(),
                    "image": image.flatten().tolist()},
    }
    OUT.write_text(json.dumps(reference))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
