// Every pipeline source the product reads, one descriptor per kind (a new source is one folder and one line
// here; the compiler asks for it), in the order their pipelines are listed.
import { githubSource } from './github/source';
import { gitlabSource } from './gitlab/source';
import { deliverySource, type Importer, type PipelineSourceDescriptor } from './sources';
import type { SourceKind } from '../shared/model';

export const SOURCES: { readonly [K in SourceKind]: PipelineSourceDescriptor<K> } = {
  delivery: deliverySource,
  github: githubSource,
  gitlab: gitlabSource,
};

/** The descriptor of a source. */
export function sourceOf<K extends SourceKind>(kind: K): PipelineSourceDescriptor<K> {
  return SOURCES[kind] as PipelineSourceDescriptor<K>;
}

export const IMPORTERS: readonly Importer[] = Object.values(SOURCES).map((s) => s.importer);
