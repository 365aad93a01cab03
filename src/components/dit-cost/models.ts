/**
 * The two models the DiT chapter's step-cost figure compares, and what the reader calls them. The UNet
 * is sd_unet's timing twin (the same graph with constant weights, 0.2 MB): a step costs the same, and
 * the chapter stays under its download budget.
 */
export const DIT_COST_MODELS = ['sd_unet_timing_twin', 'dit'] as const;
export const DIT_COST_LABELS: Record<(typeof DIT_COST_MODELS)[number], string> = {
  sd_unet_timing_twin: 'UNet step',
  dit: 'DiT step',
};
