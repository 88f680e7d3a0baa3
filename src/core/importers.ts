// Every pipeline source the product reads, in the order their pipelines are listed.
import { githubImporter } from './github/importer';
import { gitlabImporter } from './gitlab/importer';
import { deliveryImporter, type Importer } from './sources';

export const IMPORTERS: readonly Importer[] = [deliveryImporter, githubImporter, gitlabImporter];
