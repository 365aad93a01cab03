import { defineCollection, z } from 'astro:content';
import { glob } from 'astro/loaders';

const chapters = defineCollection({
  loader: glob({ pattern: '**/*.mdx', base: './src/content/chapters' }),
  schema: z.object({
    title: z.string(),
    description: z.string(),
    /** Reading order on the home page and for previous/next links. */
    order: z.number().int().nonnegative(),
    /** Model ids from public/weights/manifest.json that the chapter's figures run. */
    models: z.array(z.string()).default([]),
    /** The paper the chapter teaches, cited at its top. */
    paper: z
      .object({ title: z.string(), authors: z.string(), year: z.number().int(), url: z.string().url() })
      .optional(),
    /** Drafts are built for authors but never listed for readers. */
    draft: z.boolean().default(false),
  }),
});

export const collections = { chapters };
