/** The manifest fields an index writes on behalf of the backend that owns it (see the `auto` backend). */
export interface ManifestHeader {
  backend: string;
  params: Record<string, number | string>;
  extra?: Record<string, unknown>;
}
