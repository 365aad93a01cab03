"""Reference for the flow chapter's pipeline: the shipped sd_flow.onnx sampled by `mini_flow.sample_flow`
(Euler on the velocity with classifier-free guidance, SD3 shift) from given latents, then the shipped VAE
decoder. The TypeScript pipeline (FlowMatchEulerDiscreteScheduler through `textToImage`) must agree.
Written to tests/fixtures/flow_pipeline_reference.json; run with `python -m training.flow_reference`."""

import json
from pathlib import Path

import numpy as np
import torch

from .export import sha256
from .paths import WEIGHTS
from .recipes import mini_sd
from .recipes.mini_flow import OnnxFrozen, flow_sigmas, sample_flow

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "flow_pipeline_reference.json"


@torch.no_grad()
def flow_reference(prompt: str = "red heart", guidance: float = 5.0, steps: int = 4, shift: float = 1.0, seed: int = 0) -> dict:
    frozen = OnnxFrozen(1)
    flow = mini_sd.onnx_text_unet(WEIGHTS / "sd_flow.onnx", 1)
    hidden, embeds = frozen.prompts([prompt])
    empty = frozen.prompts([""])
    ids = torch.tensor([mini_sd.time_ids(mini_sd.TARGET_SIZE)])
    latents = np.random.default_rng(seed).standard_normal((1, 4, 8, 8)).astype(np.float32)
    z = sample_flow(flow, (1, 4, 8, 8), hidden, embeds, empty, ids, guidance, steps, shift=shift, x=torch.from_numpy(latents))
    # The decoder's raw output, as `textToImage` returns it (`OnnxFrozen.decode` clamps; the figures clamp when drawing).
    image = frozen.decoder.run(None, {"latent_sample": (z / frozen.scaling_factor).numpy()})[0]
    return {
        "provenance": "python -m training.flow_reference: the shipped ONNX files through onnxruntime (CPU), float32",
        "onnx_sha256": {k: sha256(WEIGHTS / f) for k, f in (("sd_flow", "sd_flow.onnx"), ("clip_text", "clip_text.onnx"),
                                                              ("vae_decoder", "emoji_vae_decoder.onnx"))},
        "prompt": prompt, "guidance_scale": guidance, "num_inference_steps": steps, "shift": shift,
        "timesteps": [s * 1000 for s in flow_sigmas(steps, shift)[:-1]],
        "latents": latents.ravel().tolist(), "final_latents": z.numpy().ravel().tolist(), "image": image.ravel().tolist(),
    }


def main() -> None:
    OUT.write_text(json.dumps(flow_reference()))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
