// Every pipeline source the product reads, in the order their pipelines are listed.
import { deliveryImporter, type Importer } from './sources';

export const IMPORTERS: readonly Importer[] = [deliveryImporter];
