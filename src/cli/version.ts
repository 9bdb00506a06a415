/** arbor's release version; keep equal to package.json's `version`. */
export const arborVersion = '0.1.0'
