/**
 * @license
 * Copyright 2024 Boxo pte. ltd.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 * http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
/**
 * Validate origin for security
 */
export function isValidOrigin(origin, allowedOrigins, debug = false) {
    // In debug mode, allow all origins
    if (debug) {
        return true;
    }
    // Normalize origin by removing trailing slash and dot for comparison
    const normalizedOrigin = origin.replace(/[\/\.]+$/, '');
    // Check if origin (with or without trailing slash/dot) is in allowed list
    return allowedOrigins.some(allowed => {
        const normalizedAllowed = allowed.replace(/[\/\.]+$/, '');
        return normalizedOrigin === normalizedAllowed;
    });
}
/**
 * Validate if event is from miniapp
 */
export function isValidMiniappEvent(event) {
    const data = event.data;
    return data?.type === 'appboxo-js-sdk';
}
/**
 * Assert that a value is not null/undefined
 */
export function assert(condition, message) {
    if (!condition) {
        throw new Error(`Assertion failed: ${message}`);
    }
}
/**
 * Safe JSON parse with error handling
 */
export function safeJsonParse(json, fallback) {
    try {
        return JSON.parse(json);
    }
    catch {
        return fallback;
    }
}
//# sourceMappingURL=validationHelpers.js.map