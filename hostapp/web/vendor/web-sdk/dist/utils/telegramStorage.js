/**
 * Telegram Storage Helper
 * Provides storage access that works in Telegram Mini App iframe environment
 * Falls back to postMessage communication when localStorage is not accessible
 */
/**
 * Storage adapter that works in Telegram Mini App iframe environment
 */
export class TelegramStorage {
    constructor(config = {}) {
        this.parentOrigin = null;
        this.config = config;
        this.isTelegram = this.detectTelegram();
        this.isInIframe = this.detectIframe();
        this.parentOrigin = config.parentOrigin || this.detectParentOrigin();
        this.config.log?.('TelegramStorage initialized', {
            isTelegram: this.isTelegram,
            isInIframe: this.isInIframe,
            parentOrigin: this.parentOrigin,
            usePostMessage: config.usePostMessage,
        });
    }
    /**
     * Detect if running in Telegram Mini App
     */
    detectTelegram() {
        return !!window.Telegram?.WebApp;
    }
    /**
     * Detect if running in iframe
     */
    detectIframe() {
        try {
            return window.self !== window.top;
        }
        catch (e) {
            // Cross-origin iframe will throw error
            return true;
        }
    }
    /**
     * Detect parent window origin
     */
    detectParentOrigin() {
        try {
            if (this.isInIframe && window.parent) {
                // Try to get origin from referrer or document.referrer
                const referrer = document.referrer;
                if (referrer) {
                    try {
                        const url = new URL(referrer);
                        this.config.log?.('Detected parent origin from referrer', { origin: url.origin });
                        return url.origin;
                    }
                    catch (e) {
                        // Invalid URL
                    }
                }
                // Also try to get from window.location (for same-origin iframes)
                try {
                    // If we can access parent, try to get its origin
                    if (window.parent.location) {
                        const parentOrigin = window.parent.location.origin;
                        this.config.log?.('Detected parent origin from window.parent.location', { origin: parentOrigin });
                        return parentOrigin;
                    }
                }
                catch (e) {
                    // Cross-origin access denied, that's expected
                    this.config.log?.('Cannot access parent.location (cross-origin), will use referrer or *', { referrer });
                }
            }
        }
        catch (e) {
            // Cross-origin access denied
            this.config.log?.('Error detecting parent origin', { error: e });
        }
        return null;
    }
    /**
     * Check if localStorage is accessible
     */
    isLocalStorageAccessible() {
        try {
            const test = '__telegram_storage_test__';
            localStorage.setItem(test, test);
            localStorage.removeItem(test);
            return true;
        }
        catch (e) {
            return false;
        }
    }
    /**
     * Should use postMessage for storage access
     */
    shouldUsePostMessage() {
        if (this.config.usePostMessage) {
            return true;
        }
        // Use postMessage if:
        // 1. In Telegram environment AND in iframe
        // 2. In iframe (even without Telegram, iframe localStorage may be isolated)
        // 3. localStorage is not accessible
        // 
        // Note: When running in iframe within Telegram Mini App, the iframe itself
        // doesn't have window.Telegram.WebApp (it's in parent window), but we still
        // need postMessage because localStorage may be isolated or unreliable.
        return ((this.isTelegram && this.isInIframe) ||
            this.isInIframe || // Always use postMessage in iframe for reliability
            !this.isLocalStorageAccessible());
    }
    /**
     * Get item from storage
     */
    async getItem(key) {
        if (!this.shouldUsePostMessage()) {
            // Use regular localStorage
            try {
                return localStorage.getItem(key);
            }
            catch (e) {
                this.config.log?.('localStorage.getItem failed, falling back to postMessage', e);
                return this.getItemViaPostMessage(key);
            }
        }
        return this.getItemViaPostMessage(key);
    }
    /**
     * Set item in storage
     */
    async setItem(key, value) {
        if (!this.shouldUsePostMessage()) {
            // Use regular localStorage
            try {
                localStorage.setItem(key, value);
                return;
            }
            catch (e) {
                this.config.log?.('localStorage.setItem failed, falling back to postMessage', e);
                return this.setItemViaPostMessage(key, value);
            }
        }
        return this.setItemViaPostMessage(key, value);
    }
    /**
     * Remove item from storage
     */
    async removeItem(key) {
        if (!this.shouldUsePostMessage()) {
            // Use regular localStorage
            try {
                localStorage.removeItem(key);
                return;
            }
            catch (e) {
                this.config.log?.('localStorage.removeItem failed, falling back to postMessage', e);
                return this.removeItemViaPostMessage(key);
            }
        }
        return this.removeItemViaPostMessage(key);
    }
    /**
     * Get item via postMessage
     */
    getItemViaPostMessage(key) {
        return new Promise((resolve, reject) => {
            if (!this.isInIframe || !window.parent) {
                reject(new Error('Not in iframe, cannot use postMessage'));
                return;
            }
            const requestId = `storage_req_${Date.now()}_${Math.random().toString(36).substr(2, 9)}`;
            const timeout = setTimeout(() => {
                window.removeEventListener('message', handler);
                reject(new Error('Storage request timeout'));
            }, 5000);
            const handler = (event) => {
                // Security: Verify origin if parentOrigin is set
                if (this.parentOrigin && event.origin !== this.parentOrigin) {
                    return;
                }
                try {
                    const data = typeof event.data === 'string' ? JSON.parse(event.data) : event.data;
                    if (data.type === 'STORAGE_RESPONSE' &&
                        data.requestId === requestId) {
                        clearTimeout(timeout);
                        window.removeEventListener('message', handler);
                        resolve(data.payload?.value || null);
                    }
                    else if (data.type === 'STORAGE_ERROR' &&
                        data.requestId === requestId) {
                        clearTimeout(timeout);
                        window.removeEventListener('message', handler);
                        reject(new Error(data.payload?.error || 'Storage error'));
                    }
                }
                catch (e) {
                    // Ignore non-JSON messages
                }
            };
            window.addEventListener('message', handler);
            // Send request to parent
            const message = {
                type: 'STORAGE_REQUEST',
                action: 'get',
                key,
                requestId,
            };
            window.parent.postMessage(JSON.stringify(message), this.parentOrigin || '*');
            this.config.log?.('Sent storage get request via postMessage', { key, requestId });
        });
    }
    /**
     * Set item via postMessage
     */
    setItemViaPostMessage(key, value) {
        return new Promise((resolve, reject) => {
            if (!this.isInIframe || !window.parent) {
                reject(new Error('Not in iframe, cannot use postMessage'));
                return;
            }
            const requestId = `storage_req_${Date.now()}_${Math.random().toString(36).substr(2, 9)}`;
            const timeout = setTimeout(() => {
                window.removeEventListener('message', handler);
                reject(new Error('Storage request timeout'));
            }, 5000);
            const handler = (event) => {
                // Security: Verify origin if parentOrigin is set
                if (this.parentOrigin && event.origin !== this.parentOrigin) {
                    return;
                }
                try {
                    const data = typeof event.data === 'string' ? JSON.parse(event.data) : event.data;
                    if (data.type === 'STORAGE_RESPONSE' &&
                        data.requestId === requestId) {
                        clearTimeout(timeout);
                        window.removeEventListener('message', handler);
                        resolve();
                    }
                    else if (data.type === 'STORAGE_ERROR' &&
                        data.requestId === requestId) {
                        clearTimeout(timeout);
                        window.removeEventListener('message', handler);
                        reject(new Error(data.payload?.error || 'Storage error'));
                    }
                }
                catch (e) {
                    // Ignore non-JSON messages
                }
            };
            window.addEventListener('message', handler);
            // Send request to parent
            const message = {
                type: 'STORAGE_REQUEST',
                action: 'set',
                key,
                value,
                requestId,
            };
            window.parent.postMessage(JSON.stringify(message), this.parentOrigin || '*');
            this.config.log?.('Sent storage set request via postMessage', { key, requestId });
        });
    }
    /**
     * Remove item via postMessage
     */
    removeItemViaPostMessage(key) {
        return new Promise((resolve, reject) => {
            if (!this.isInIframe || !window.parent) {
                reject(new Error('Not in iframe, cannot use postMessage'));
                return;
            }
            const requestId = `storage_req_${Date.now()}_${Math.random().toString(36).substr(2, 9)}`;
            const timeout = setTimeout(() => {
                window.removeEventListener('message', handler);
                reject(new Error('Storage request timeout'));
            }, 5000);
            const handler = (event) => {
                // Security: Verify origin if parentOrigin is set
                if (this.parentOrigin && event.origin !== this.parentOrigin) {
                    return;
                }
                try {
                    const data = typeof event.data === 'string' ? JSON.parse(event.data) : event.data;
                    if (data.type === 'STORAGE_RESPONSE' &&
                        data.requestId === requestId) {
                        clearTimeout(timeout);
                        window.removeEventListener('message', handler);
                        resolve();
                    }
                    else if (data.type === 'STORAGE_ERROR' &&
                        data.requestId === requestId) {
                        clearTimeout(timeout);
                        window.removeEventListener('message', handler);
                        reject(new Error(data.payload?.error || 'Storage error'));
                    }
                }
                catch (e) {
                    // Ignore non-JSON messages
                }
            };
            window.addEventListener('message', handler);
            // Send request to parent
            const message = {
                type: 'STORAGE_REQUEST',
                action: 'remove',
                key,
                requestId,
            };
            window.parent.postMessage(JSON.stringify(message), this.parentOrigin || '*');
            this.config.log?.('Sent storage remove request via postMessage', { key, requestId });
        });
    }
}
//# sourceMappingURL=telegramStorage.js.map