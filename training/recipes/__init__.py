"""One module per shipped model: its config, data, loss, export and evaluation."""

RECIPES = ("mnist_judge", "mnist_ddpm", "emoji_vae", "tiny_clip")
