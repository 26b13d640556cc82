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
import { DEFAULT_CONFIG, EVENT_TYPES } from './constants';
import { createErrorResponse } from './utils/messageHelpers';
import { isValidOrigin, isValidMiniappEvent } from './utils/validationHelpers';
import { handleLoginEvent } from './handlers/loginHandler';
import { handlePaymentEvent } from './handlers/paymentHandler';
import { handleInitDataEvent } from './handlers/initDataHandler';
import { handleCustomEvent } from './handlers/customEventHandler';
import { NetworkService } from './utils/networkService';
// Single global message handler that routes to the current SDK instance
// CRITICAL: This ensures only one listener exists on window, preventing event accumulation
let globalMessageHandler = null;
let currentSDKInstance = null;
/**
 * Appboxo Web SDK for Desktop
 * Handles communication between Desktop App and miniapps
 */
class AppboxoWebSDK {
    constructor(config) {
        this.iframeRef = null;
        this.eventHandlers = new Map();
        this.lifecycleHandlers = new Map();
        this.requestResolvers = new Map();
        this.baseUrl = '';
        this.isInitialized = false;
        this.authCode = null; // Explicitly set auth code
        this.authTokens = null; // Direct auth tokens (Boxo Connect Direct)
        this.messageListener = null; // Store listener reference for cleanup
        this.isMounted = false; // Track mount state to prevent duplicate mounts
        this.mountPromise = null; // Cache mount promise to prevent concurrent mounts
        this.instanceId = `SDK-${Date.now()}-${Math.random().toString(36).substr(2, 9)}`;
        this.config = {
            baseUrl: DEFAULT_CONFIG.baseUrl,
            sandboxMode: DEFAULT_CONFIG.sandboxMode,
            debug: DEFAULT_CONFIG.debug,
            ...config
        };
        // Initialize network service
        this.networkService = new NetworkService({
            baseUrl: this.config.baseUrl || DEFAULT_CONFIG.baseUrl,
            log: this.log.bind(this),
        });
        this.log('AppboxoWebSDK initialized', { instanceId: this.instanceId, config: this.config });
        // Log locale info on initialization for visibility
        if (this.config.locale) {
            if (this.config.debug) {
                console.log(`[AppboxoWebSDK] Locale configured: "${this.config.locale}" - will be passed to miniapp via InitData`);
            }
        }
        else if (this.config.debug) {
            console.log(`[AppboxoWebSDK] No locale configured - miniapp will not receive locale`);
        }
        // Log theme info on initialization for visibility
        if (this.config.theme) {
            if (this.config.debug) {
                console.log(`[AppboxoWebSDK] Theme configured: "${this.config.theme}" - will be passed to miniapp via InitData`);
            }
        }
        else if (this.config.debug) {
            console.log(`[AppboxoWebSDK] No theme configured - miniapp will not receive theme`);
        }
    }
    /**
     * Initialize the SDK and start listening for events
     */
    initialize() {
        if (this.isInitialized) {
            this.log('SDK already initialized');
            return;
        }
        this.setupEventListeners();
        this.isInitialized = true;
        this.log('SDK initialized successfully');
    }
    /**
     * Set the iframe reference for miniapp communication
     */
    setIframe(iframe) {
        this.iframeRef = iframe;
        this.log('Iframe reference set', iframe.src);
    }
    /**
     * Mount miniapp to container (helper method)
     * Creates iframe, sets reference, and initializes SDK
     *
     * @param config Configuration object with container, optional url (will fetch from API if not provided), and optional className
     * @returns The created iframe element
     */
    async mount(config) {
        // Return existing mount promise if already mounting (prevents concurrent mounts)
        if (this.mountPromise) {
            this.log('Mount already in progress, returning existing promise');
            return this.mountPromise;
        }
        // Prevent duplicate mounts if already mounted
        if (this.isMounted && this.iframeRef) {
            this.log('Miniapp already mounted, returning existing iframe');
            return this.iframeRef;
        }
        // Synchronously clean up container BEFORE creating mount promise
        // This is critical for React Strict Mode which can call mount twice rapidly
        const container = typeof config.container === 'string'
            ? document.getElementById(config.container) || document.querySelector(config.container)
            : config.container;
        if (container) {
            const existingIframes = container.querySelectorAll('iframe');
            if (existingIframes.length > 0) {
                this.log(`Cleaning up ${existingIframes.length} existing iframe(s) before mount`);
                existingIframes.forEach((iframe, index) => {
                    try {
                        container.removeChild(iframe);
                    }
                    catch (e) {
                        this.log('Error removing iframe (may already be removed)', e);
                    }
                });
            }
            // Also remove old iframe reference if it exists
            if (this.iframeRef && this.iframeRef.parentNode === container) {
                try {
                    container.removeChild(this.iframeRef);
                }
                catch (e) {
                    this.log('Error removing old iframe reference', e);
                }
            }
        }
        // Create mount promise and cache it
        this.mountPromise = this._doMount(config).finally(() => {
            // Clear promise cache after mount completes (success or failure)
            this.mountPromise = null;
        });
        return this.mountPromise;
    }
    /**
     * Internal mount implementation
     */
    async _doMount(config) {
        // Get container element
        const container = typeof config.container === 'string'
            ? document.getElementById(config.container) || document.querySelector(config.container)
            : config.container;
        if (!container) {
            throw new Error('Container element not found');
        }
        // Clean up any existing iframe in container to prevent duplicates
        // Remove any existing iframe elements (in case of remount or React Strict Mode)
        // This is critical for React Strict Mode which runs effects twice in development
        const existingIframes = container.querySelectorAll('iframe');
        if (existingIframes.length > 0) {
            this.log(`Found ${existingIframes.length} existing iframe(s) in container, removing...`);
            existingIframes.forEach((iframe, index) => {
                this.log(`Removing existing iframe ${index + 1} from container`, iframe.src);
                try {
                    container.removeChild(iframe);
                }
                catch (e) {
                    this.log('Error removing iframe (may already be removed)', e);
                }
            });
        }
        // Also remove the old iframe reference if it exists and is in this container
        if (this.iframeRef) {
            if (this.iframeRef.parentNode === container) {
                this.log('Removing old iframe reference from container');
                try {
                    container.removeChild(this.iframeRef);
                }
                catch (e) {
                    this.log('Error removing old iframe reference (may already be removed)', e);
                }
            }
            else if (this.iframeRef.parentNode) {
                // Iframe exists but in different container, remove it from there
                this.log('Removing old iframe reference from different container');
                try {
                    this.iframeRef.parentNode.removeChild(this.iframeRef);
                }
                catch (e) {
                    this.log('Error removing old iframe from different container', e);
                }
            }
        }
        // Get URL - either from config or fetch from API
        let url = config.url;
        if (!url) {
            url = await this.fetchMiniappUrl();
        }
        // Final cleanup check RIGHT BEFORE appending - critical for React Strict Mode
        // Even if cleanup happened at mount() start, another mount might have appended since then
        const finalCheck = container.querySelectorAll('iframe');
        if (finalCheck.length > 0) {
            this.log(`Removing ${finalCheck.length} duplicate iframe(s) before append (React Strict Mode protection)`);
            finalCheck.forEach((iframe) => {
                try {
                    container.removeChild(iframe);
                }
                catch (e) {
                    this.log('Error removing duplicate iframe', e);
                }
            });
        }
        // Create iframe
        const iframe = document.createElement('iframe');
        iframe.src = url;
        iframe.className = config.className || '';
        iframe.style.border = 'none';
        iframe.setAttribute('title', 'Miniapp');
        // Add attributes to improve iframe loading in Next.js apps
        iframe.setAttribute('loading', 'eager');
        iframe.setAttribute('referrerPolicy', 'strict-origin-when-cross-origin');
        // Append to container
        container.appendChild(iframe);
        // Set reference and initialize
        this.setIframe(iframe);
        this.initialize();
        this.isMounted = true;
        // Wait for iframe to load before considering it ready
        // This helps ensure miniapp can detect the host app
        iframe.addEventListener('load', () => {
            this.log('Iframe load event fired', { url: iframe.src });
            if (this.config.debug) {
                console.log(`[AppboxoWebSDK] Iframe loaded, ready to receive InitData from miniapp`);
            }
        }, { once: true });
        // Log that we're ready to receive InitData
        if (this.config.debug) {
            console.log(`[AppboxoWebSDK] SDK initialized and ready. Waiting for miniapp to request InitData...`);
            if (this.config.locale) {
                console.log(`[AppboxoWebSDK] Locale "${this.config.locale}" is configured and will be included in InitData response`);
            }
        }
        // Log locale and theme info on mount for visibility
        const configInfo = { url };
        if (this.config.locale) {
            configInfo.locale = this.config.locale;
        }
        if (this.config.theme) {
            configInfo.theme = this.config.theme;
        }
        const note = [];
        if (this.config.locale)
            note.push('Locale will be included when miniapp requests InitData');
        if (this.config.theme)
            note.push('Theme will be included when miniapp requests InitData');
        this.log('Miniapp mounted successfully', { ...configInfo, note: note.length > 0 ? note.join(', ') : 'No locale or theme configured' });
        return iframe;
    }
    /**
     * Get miniapp URL from API settings endpoint (public method)
     * This allows users to manually set the URL on their own iframe element
     * @returns The miniapp URL
     * @throws Error if API call fails or URL is not found
     */
    async getMiniappUrl() {
        return this.fetchMiniappUrl();
    }
    /**
     * Fetch miniapp URL from API settings endpoint
     * @returns The miniapp URL
     * @throws Error if API call fails or URL is not found
     */
    async fetchMiniappUrl() {
        if (!this.config.appId) {
            throw new Error('appId is required to fetch miniapp URL from API');
        }
        if (!this.config.clientId) {
            throw new Error('clientId is required to fetch miniapp URL from API');
        }
        try {
            const endpoint = `/miniapps/${this.config.appId}/settings/`;
            const params = {
                client_id: this.config.clientId,
            };
            // Add is_desktop parameter if isDesktop is true
            if (this.config.isDesktop) {
                params.is_desktop = 'true';
            }
            this.log('Fetching miniapp URL from API', { endpoint, params });
            const response = await this.networkService.get(endpoint, params);
            if (!response.ok) {
                throw new Error(`Failed to fetch miniapp URL: API returned status ${response.status}`);
            }
            if (!response.data?.miniapp?.url) {
                throw new Error('Failed to fetch miniapp URL: URL not found in API response');
            }
            const url = response.data.miniapp.url;
            this.log('Miniapp URL fetched successfully', { url });
            return url;
        }
        catch (error) {
            this.log('Failed to fetch miniapp URL from API', error);
            throw new Error(`Failed to fetch miniapp URL: ${error instanceof Error ? error.message : 'Unknown error'}`);
        }
    }
    /**
     * Register custom event handler
     */
    onEvent(eventType, handler) {
        this.eventHandlers.set(eventType, handler);
        this.log(`Event handler registered for: ${eventType}`);
    }
    /**
     * Remove event handler
     */
    offEvent(eventType) {
        this.eventHandlers.delete(eventType);
        this.log(`Event handler removed for: ${eventType}`);
    }
    /**
     * Register callback for when authentication is needed (lifecycle hook)
     * Similar to Android/iOS/Flutter SDK's onAuth pattern
     * Host app should request tokens from backend and call setAuthTokens() in this callback
     */
    onAuth(callback) {
        this.lifecycleHandlers.set('auth', callback);
    }
    /**
     * Register callback for when login completes
     */
    onLoginComplete(callback) {
        this.lifecycleHandlers.set('login-complete', callback);
    }
    /**
     * Register callback for when payment completes
     */
    onPaymentComplete(callback) {
        this.lifecycleHandlers.set('payment-complete', callback);
    }
    /**
     * Set auth code explicitly (like React Native SDK pattern)
     */
    setAuthCode(authCode) {
        this.authCode = authCode;
        this.log('Auth code set explicitly', authCode);
    }
    /**
     * Set auth tokens directly (Boxo Connect Direct)
     * Host App should call Boxo Dashboard connect endpoint to get miniapp tokens first,
     * then call this method with the obtained tokens before miniapp calls login()
     */
    setAuthTokens(token, refreshToken) {
        this.authTokens = { token, refresh_token: refreshToken };
        this.log('Auth tokens set directly (Boxo Connect Direct)', { token, refreshToken });
    }
    /**
     * Set locale/language code (e.g., 'en', 'en-US', 'ru', 'zh-CN')
     * This will be passed to the miniapp via InitData on the next request
     * Note: The locale will be included in the InitData response when the miniapp requests it.
     * If the miniapp has already loaded, you may need to reload it or wait for the next InitData request.
     */
    setLocale(locale) {
        this.config.locale = locale;
        this.log('Locale set', { locale, note: 'Will be included in next InitData request' });
        // Also log to console for visibility (important configuration change)
        if (this.config.debug) {
            console.log(`[AppboxoWebSDK] Locale set to: "${locale}" - will be passed to miniapp on next InitData request`);
        }
    }
    /**
     * Set theme/color scheme preference ('dark' | 'light' | 'system')
     * This will be passed to the miniapp via InitData on the next request
     * Note: The theme will be included in the InitData response when the miniapp requests it.
     * If the miniapp has already loaded, SDK will automatically notify miniapp about the theme change.
     *
     * @param theme - Theme preference: 'dark' for dark mode, 'light' for light mode, 'system' for system preference
     */
    setTheme(theme) {
        this.config.theme = theme;
        this.log('Theme set', { theme, note: 'Will be included in next InitData request' });
        // Also log to console for visibility (important configuration change)
        if (this.config.debug) {
            console.log(`[AppboxoWebSDK] Theme set to: "${theme}" - will be passed to miniapp on next InitData request`);
        }
        // Automatically notify miniapp about theme change if iframe is already mounted
        // This allows miniapp to immediately respond to theme changes without waiting for next InitData request
        if (this.iframeRef?.contentWindow) {
            try {
                const themeChangeNotification = {
                    type: 'appboxo-theme-change',
                    theme: theme,
                };
                this.iframeRef.contentWindow.postMessage(themeChangeNotification, '*');
                this.log('Theme change notification sent to miniapp', { theme });
                if (this.config.debug) {
                    console.log(`[AppboxoWebSDK] Theme change notification sent to miniapp: ${theme}`);
                }
            }
            catch (error) {
                this.log('Failed to send theme change notification to miniapp', error);
            }
        }
    }
    /**
     * Setup event listeners for miniapp communication
     */
    setupEventListeners() {
        this.log('Setting up event listeners', {
            instanceId: this.instanceId,
            alreadyHasListener: !!this.messageListener,
            isInitialized: this.isInitialized
        });
        // CRITICAL: Use single global message handler to prevent accumulation
        // Always remove old handler first, even if globalMessageHandler is null
        // This handles race conditions where multiple instances setup simultaneously
        const oldHandler = globalMessageHandler;
        if (oldHandler) {
            this.log('Removing existing global message handler', {
                instanceId: this.instanceId,
                oldHandlerType: typeof oldHandler,
                oldHandlerString: oldHandler.toString().substring(0, 50)
            });
            try {
                window.removeEventListener('message', oldHandler, true);
                this.log('removeEventListener called successfully', { instanceId: this.instanceId });
            }
            catch (e) {
                this.log('Error removing global message handler', e);
            }
        }
        else {
            this.log('No old handler to remove', { instanceId: this.instanceId });
        }
        // Clear global state before creating new handler
        globalMessageHandler = null;
        currentSDKInstance = null;
        // Set this instance as current
        currentSDKInstance = this;
        // Create single global message handler that routes to current SDK instance
        globalMessageHandler = (event) => {
            // Only process if this is the current SDK instance
            if (currentSDKInstance !== this) {
                return; // Ignore if this instance is no longer current
            }
            // Route event to current SDK instance
            this.handleMiniappEvent(event);
        };
        // Store reference for cleanup
        this.messageListener = globalMessageHandler;
        // Add single global listener to window (only one should exist)
        window.addEventListener('message', globalMessageHandler, true);
        this.log(`Single global listener added to window. Instance: ${this.instanceId}, oldHandler existed: ${!!oldHandler}`);
        this.log('Event listeners setup complete', {
            instanceId: this.instanceId,
            messageListenerSaved: !!this.messageListener,
            listenerType: typeof this.messageListener,
            globalHandlerExists: !!globalMessageHandler
        });
    }
    /**
     * Handle incoming events from miniapp
     */
    handleMiniappEvent(event) {
        // Log ALL incoming messages for debugging (before validation)
        if (this.config.debug) {
            console.log(`[AppboxoWebSDK] Raw message received from origin: ${event.origin}`, event.data);
        }
        // Security check - only accept events from expected origin
        // If disableOriginValidation is true, skip validation (NOT RECOMMENDED for production)
        if (this.config.disableOriginValidation) {
            if (this.config.debug) {
                console.warn('[AppboxoWebSDK] WARNING: Origin validation is disabled. This should only be used for development/testing.');
            }
        }
        else if (this.config.debug) {
            // In debug mode, allow all origins (for development)
            // No validation needed
        }
        else {
            // In production (debug: false), only validate if user provided allowedOrigins
            // If user didn't provide allowedOrigins or provided empty array, allow all origins (flexible for different deployment URLs)
            if (this.config.allowedOrigins && this.config.allowedOrigins.length > 0) {
                if (!isValidOrigin(event.origin, this.config.allowedOrigins, false)) {
                    // Always log origin rejection errors, even when debug is false
                    // This is critical for debugging payment/event issues
                    console.error(`[AppboxoWebSDK] Event rejected - invalid origin: ${event.origin}. Allowed origins:`, this.config.allowedOrigins);
                    console.error(`[AppboxoWebSDK] Note: allowedOrigins should be the miniapp's origin (where iframe loads from), NOT window.location.origin`);
                    this.log('Invalid origin, ignoring event', event.origin);
                    return;
                }
            }
            // If no allowedOrigins provided or empty array, allow all origins (user's choice)
        }
        // Validate event type
        if (!isValidMiniappEvent(event)) {
            // Always log invalid event format errors, even when debug is false
            console.error(`[AppboxoWebSDK] Event rejected - invalid event format:`, event.data);
            this.log('Invalid miniapp event, ignoring', event.data);
            return;
        }
        const data = event.data;
        const { handler } = data;
        this.log('Received miniapp event', data);
        // Always log payment events for visibility, even when debug is false
        // This helps debug payment issues
        if (handler === EVENT_TYPES.PAYMENT) {
            console.log(`[AppboxoWebSDK] PAYMENT Event received: ${handler}`);
        }
        // Log ALL events for visibility (including InitData)
        if (this.config.debug) {
            const eventType = handler === 'AppBoxoWebAppGetInitData' ? 'INIT_DATA' :
                handler === 'AppBoxoWebAppLogin' ? 'LOGIN' :
                    handler === 'AppBoxoWebAppPay' ? 'PAYMENT' :
                        handler === 'AppBoxoWebAppSetStatusBarColor' ? 'STATUS_BAR' :
                            handler === 'AppBoxoWebAppSetActionButton' ? 'ACTION_BUTTON' : 'OTHER';
            console.log(`[AppboxoWebSDK] ${eventType} Event received: ${handler}`);
            // Special highlight for InitData
            if (handler === 'AppBoxoWebAppGetInitData') {
                console.log(`[AppboxoWebSDK] INIT_DATA EVENT DETECTED - Locale will be included if configured.`);
            }
        }
        const { params, request_id } = data;
        // Extract request_id from params if not in top-level
        const requestId = request_id || params?.request_id;
        // Log handler type for debugging
        this.log(`Event handler: ${handler}`, { params, requestId });
        switch (handler) {
            case EVENT_TYPES.LOGIN:
                handleLoginEvent(params, requestId, {
                    config: this.config,
                    authCode: this.authCode,
                    getAuthTokens: () => this.authTokens, // Use getter function to allow dynamic updates
                    onGetAuthCode: this.config.onGetAuthCode,
                    onGetAuthTokens: this.config.onGetAuthTokens,
                    lifecycleHandlers: this.lifecycleHandlers,
                    log: this.log.bind(this),
                    sendResponseToMiniapp: this.sendResponseToMiniapp.bind(this),
                    sendErrorResponse: this.sendErrorResponse.bind(this)
                });
                break;
            case EVENT_TYPES.PAYMENT:
                handlePaymentEvent(params, requestId, {
                    config: this.config,
                    lifecycleHandlers: this.lifecycleHandlers,
                    log: this.log.bind(this),
                    sendResponseToMiniapp: this.sendResponseToMiniapp.bind(this),
                    sendErrorResponse: this.sendErrorResponse.bind(this)
                });
                break;
            case EVENT_TYPES.INIT_DATA:
                handleInitDataEvent(params, requestId, {
                    config: this.config,
                    log: this.log.bind(this),
                    sendResponseToMiniapp: this.sendResponseToMiniapp.bind(this),
                    sendErrorResponse: this.sendErrorResponse.bind(this)
                });
                break;
            case EVENT_TYPES.CUSTOM:
                handleCustomEvent(params, requestId, {
                    eventHandlers: this.eventHandlers,
                    log: this.log.bind(this),
                    sendResponseToMiniapp: this.sendResponseToMiniapp.bind(this),
                    sendErrorResponse: this.sendErrorResponse.bind(this)
                });
                break;
            default:
                this.log(`Unhandled event: ${handler}`, params);
                this.sendErrorResponse(handler, 'Unsupported event type', requestId);
        }
    }
    /**
     * Send response back to miniapp
     */
    sendResponseToMiniapp(response) {
        if (!this.iframeRef?.contentWindow) {
            this.log('No iframe reference, cannot send response', response);
            return;
        }
        this.log('Iframe details:', {
            src: this.iframeRef.src,
            readyState: this.iframeRef.contentDocument?.readyState,
            contentWindow: !!this.iframeRef.contentWindow
        });
        this.log('Posting message to iframe contentWindow with response:', JSON.stringify(response, null, 2));
        this.iframeRef.contentWindow.postMessage(response, '*');
        this.log('Response sent to miniapp', response);
    }
    /**
     * Send error response to miniapp
     */
    sendErrorResponse(eventType, error, requestId) {
        const errorResponse = createErrorResponse(eventType, error, requestId);
        this.sendResponseToMiniapp(errorResponse);
    }
    /**
     * Logging utility
     */
    log(message, data) {
        if (this.config.debug) {
            console.log(`[AppboxoWebSDK] ${message}`, data);
        }
    }
    /**
     * Logout and clear SDK state.
     *
     * Clears the SDK's internal auth data and notifies the miniapp to clear its own
     * auth-specific storage (token, refresh_token). The host app's localStorage and
     * sessionStorage are intentionally left untouched — the SDK does not own that data.
     */
    logout() {
        this.log('Logout called');
        try {
            // Clear SDK's internal auth tokens and code
            this.authCode = null;
            this.authTokens = null;
            this.log('SDK auth tokens and code cleared');
            // Notify miniapp about logout via postMessage.
            // The miniapp is responsible for clearing its own auth-specific storage keys.
            if (this.iframeRef?.contentWindow) {
                try {
                    const logoutNotification = {
                        type: 'appboxo-host-response',
                        handler: 'AppBoxoWebAppLogout',
                        data: {
                            action: 'logout',
                        },
                    };
                    const targetOrigin = '*';
                    this.iframeRef.contentWindow.postMessage(logoutNotification, targetOrigin);
                    this.log('Logout notification sent to miniapp', { logoutNotification, targetOrigin });
                }
                catch (error) {
                    console.error('[AppboxoWebSDK] Failed to notify miniapp about logout:', error);
                    this.log('Failed to notify miniapp about logout', error);
                }
            }
            else {
                console.warn('[AppboxoWebSDK] Cannot send logout notification - iframe contentWindow not available');
            }
        }
        catch (error) {
            this.log('Error during logout', error);
            // Don't throw - logout should be best-effort
        }
    }
    /**
     * Cleanup resources
     */
    destroy() {
        this.log('Destroy called', {
            instanceId: this.instanceId,
            hasMessageListener: !!this.messageListener,
            isInitialized: this.isInitialized,
            isMounted: this.isMounted,
            hasIframeRef: !!this.iframeRef
        });
        // Remove iframe from DOM if it exists
        if (this.iframeRef && this.iframeRef.parentNode) {
            this.log('Removing iframe from DOM during destroy');
            this.iframeRef.parentNode.removeChild(this.iframeRef);
        }
        // Remove event listener using stored reference
        // IMPORTANT: Must match the capture phase used in addEventListener (true)
        // If this is the current SDK instance, remove the global handler
        if (currentSDKInstance === this && globalMessageHandler) {
            this.log('This is the current SDK instance, removing global handler');
            try {
                window.removeEventListener('message', globalMessageHandler, true);
                this.log('Global message listener removed successfully');
            }
            catch (e) {
                this.log('Error removing global message listener', e);
            }
            currentSDKInstance = null;
            globalMessageHandler = null;
        }
        else if (this.messageListener) {
            // Fallback: remove using stored reference (shouldn't happen if cleanup is correct)
            this.log('Removing message listener using stored reference');
            try {
                window.removeEventListener('message', this.messageListener, true);
                this.log('Message listener removed successfully');
            }
            catch (e) {
                this.log('Error removing message listener', e);
            }
        }
        this.messageListener = null;
        this.eventHandlers.clear();
        this.lifecycleHandlers.clear();
        this.requestResolvers.clear();
        this.iframeRef = null;
        this.isInitialized = false;
        this.isMounted = false; // Reset mount state
        this.mountPromise = null; // Clear mount promise cache
        this.log('SDK destroyed');
    }
}
// Named export (preferred)
export { AppboxoWebSDK };
// Default export (for backward compatibility)
export default AppboxoWebSDK;
// Re-export utilities
export * from './utils';
// Re-export constants
export * from './constants';
//# sourceMappingURL=index.js.map