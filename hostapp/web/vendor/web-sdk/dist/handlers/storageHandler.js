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
import { createHostResponse } from '../utils/messageHelpers';
// Storage key prefix to avoid conflicts with host app's own storage
const STORAGE_PREFIX = 'boxo_miniapp_';
/**
 * Check if Telegram CloudStorage is available
 */
function isTelegramCloudStorageAvailable() {
    return !!(typeof window !== 'undefined' &&
        window.Telegram?.WebApp?.CloudStorage);
}
/**
 * Get storage backend (CloudStorage or localStorage)
 */
function getStorageBackend() {
    if (isTelegramCloudStorageAvailable()) {
        return {
            type: 'cloudStorage',
            storage: window.Telegram.WebApp.CloudStorage,
        };
    }
    if (typeof window !== 'undefined' && window.localStorage) {
        return {
            type: 'localStorage',
            storage: window.localStorage,
        };
    }
    return null;
}
/**
 * Handle StorageGet request
 */
export function handleStorageGetEvent(params, requestId, context) {
    const { log, sendResponseToMiniapp, sendErrorResponse, config } = context;
    const { key } = params;
    log('Storage GET request', { key, requestId });
    const backend = getStorageBackend();
    if (!backend) {
        log('No storage backend available');
        sendErrorResponse('AppBoxoWebAppStorageGet', 'Storage not available', requestId);
        return;
    }
    if (backend.type === 'cloudStorage') {
        // Use Telegram CloudStorage (async)
        backend.storage.getItem(key, (error, value) => {
            if (error) {
                log('CloudStorage getItem error', error);
                const response = {
                    key,
                    value: null,
                    success: false,
                    error: String(error),
                };
                sendResponseToMiniapp(createHostResponse('AppBoxoWebAppStorageGet', response, requestId));
            }
            else {
                log('CloudStorage getItem success', { key, value });
                const response = {
                    key,
                    value: value || null,
                    success: true,
                };
                sendResponseToMiniapp(createHostResponse('AppBoxoWebAppStorageGet', response, requestId));
            }
        });
    }
    else {
        // Use localStorage (sync)
        try {
            const prefixedKey = STORAGE_PREFIX + key;
            const value = backend.storage.getItem(prefixedKey);
            log('localStorage getItem success', { key, value });
            const response = {
                key,
                value: value || null,
                success: true,
            };
            sendResponseToMiniapp(createHostResponse('AppBoxoWebAppStorageGet', response, requestId));
        }
        catch (error) {
            log('localStorage getItem error', error);
            const response = {
                key,
                value: null,
                success: false,
                error: error instanceof Error ? error.message : String(error),
            };
            sendResponseToMiniapp(createHostResponse('AppBoxoWebAppStorageGet', response, requestId));
        }
    }
}
/**
 * Handle StorageSet request
 */
export function handleStorageSetEvent(params, requestId, context) {
    const { log, sendResponseToMiniapp, sendErrorResponse } = context;
    const { key, value } = params;
    log('Storage SET request', { key, value, requestId });
    const backend = getStorageBackend();
    if (!backend) {
        log('No storage backend available');
        sendErrorResponse('AppBoxoWebAppStorageSet', 'Storage not available', requestId);
        return;
    }
    if (backend.type === 'cloudStorage') {
        // Use Telegram CloudStorage (async)
        backend.storage.setItem(key, value, (error, success) => {
            if (error) {
                log('CloudStorage setItem error', error);
                const response = {
                    success: false,
                    error: String(error),
                };
                sendResponseToMiniapp(createHostResponse('AppBoxoWebAppStorageSet', response, requestId));
            }
            else {
                log('CloudStorage setItem success', { key });
                const response = {
                    success: true,
                };
                sendResponseToMiniapp(createHostResponse('AppBoxoWebAppStorageSet', response, requestId));
            }
        });
    }
    else {
        // Use localStorage (sync)
        try {
            const prefixedKey = STORAGE_PREFIX + key;
            backend.storage.setItem(prefixedKey, value);
            log('localStorage setItem success', { key });
            const response = {
                success: true,
            };
            sendResponseToMiniapp(createHostResponse('AppBoxoWebAppStorageSet', response, requestId));
        }
        catch (error) {
            log('localStorage setItem error', error);
            const response = {
                success: false,
                error: error instanceof Error ? error.message : String(error),
            };
            sendResponseToMiniapp(createHostResponse('AppBoxoWebAppStorageSet', response, requestId));
        }
    }
}
/**
 * Handle StorageRemove request
 */
export function handleStorageRemoveEvent(params, requestId, context) {
    const { log, sendResponseToMiniapp, sendErrorResponse } = context;
    const { key } = params;
    log('Storage REMOVE request', { key, requestId });
    const backend = getStorageBackend();
    if (!backend) {
        log('No storage backend available');
        sendErrorResponse('AppBoxoWebAppStorageRemove', 'Storage not available', requestId);
        return;
    }
    if (backend.type === 'cloudStorage') {
        // Use Telegram CloudStorage (async)
        backend.storage.removeItem(key, (error, success) => {
            if (error) {
                log('CloudStorage removeItem error', error);
                const response = {
                    success: false,
                    error: String(error),
                };
                sendResponseToMiniapp(createHostResponse('AppBoxoWebAppStorageRemove', response, requestId));
            }
            else {
                log('CloudStorage removeItem success', { key });
                const response = {
                    success: true,
                };
                sendResponseToMiniapp(createHostResponse('AppBoxoWebAppStorageRemove', response, requestId));
            }
        });
    }
    else {
        // Use localStorage (sync)
        try {
            const prefixedKey = STORAGE_PREFIX + key;
            backend.storage.removeItem(prefixedKey);
            log('localStorage removeItem success', { key });
            const response = {
                success: true,
            };
            sendResponseToMiniapp(createHostResponse('AppBoxoWebAppStorageRemove', response, requestId));
        }
        catch (error) {
            log('localStorage removeItem error', error);
            const response = {
                success: false,
                error: error instanceof Error ? error.message : String(error),
            };
            sendResponseToMiniapp(createHostResponse('AppBoxoWebAppStorageRemove', response, requestId));
        }
    }
}
/**
 * Handle StorageClear request
 */
export function handleStorageClearEvent(params, requestId, context) {
    const { log, sendResponseToMiniapp, sendErrorResponse } = context;
    log('Storage CLEAR request', { requestId });
    const backend = getStorageBackend();
    if (!backend) {
        log('No storage backend available');
        sendErrorResponse('AppBoxoWebAppStorageClear', 'Storage not available', requestId);
        return;
    }
    if (backend.type === 'cloudStorage') {
        // Use Telegram CloudStorage - remove all keys
        // Note: CloudStorage doesn't have a native "clear all" method
        // We would need to track keys ourselves or use a different approach
        // For now, we'll return an error suggesting to use removeItem instead
        log('CloudStorage clear not supported - use removeItem for specific keys');
        const response = {
            success: false,
            error: 'CloudStorage does not support clear operation. Use removeItem for specific keys.',
        };
        sendResponseToMiniapp(createHostResponse('AppBoxoWebAppStorageClear', response, requestId));
    }
    else {
        // Use localStorage - clear only miniapp prefixed keys
        try {
            const keys = Object.keys(backend.storage);
            const miniappKeys = keys.filter(k => k.startsWith(STORAGE_PREFIX));
            miniappKeys.forEach(key => {
                backend.storage.removeItem(key);
            });
            log('localStorage clear success', { clearedKeys: miniappKeys.length });
            const response = {
                success: true,
            };
            sendResponseToMiniapp(createHostResponse('AppBoxoWebAppStorageClear', response, requestId));
        }
        catch (error) {
            log('localStorage clear error', error);
            const response = {
                success: false,
                error: error instanceof Error ? error.message : String(error),
            };
            sendResponseToMiniapp(createHostResponse('AppBoxoWebAppStorageClear', response, requestId));
        }
    }
}
//# sourceMappingURL=storageHandler.js.map