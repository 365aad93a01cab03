/** The two models the DiT chapter's step-cost figure compares, and what the reader calls them. */
export const DIT_COST_MODELS = ['sd_unet', 'dit'] as const;
export const DIT_COST_LABELS: Record<(typeof DIT_COST_MODELS)[number], string> = {
  sd_unet: 'UNet step',
  dit: 'DiT step',
};
