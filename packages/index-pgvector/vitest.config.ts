import { defineConfig } from 'vitest/config';
import { pixsearchVitest } from '../../vitest.shared.js';

export default defineConfig(pixsearchVitest());
