export declare function ensureBuild(options?: { quiet?: boolean }): Promise<void>;
