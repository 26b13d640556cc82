/**
 * Init Data Handler
 * Handles init data events from miniapp
 */
import { EVENT_TYPES } from '../constants';
import { createHostResponse } from '../utils/messageHelpers';
/**
 * Detect if running in Telegram WebView environment
 * Checks multiple indicators to determine if the host app is running inside Telegram WebView
 */
function detectTelegramWebView() {
    if (typeof window === 'undefined') {
        return false;
    }
    // Check URL parameters
    const urlParams = window.location.hash.includes('tgWebApp') ||
        window.location.search.includes('tgWebApp');
    // Check user agent
    const userAgent = navigator.userAgent.includes('Telegram') ||
        navigator.userAgent.includes('WebView');
    // Check for Telegram SDK
    const hasTelegramSDK = !!window.Telegram?.WebApp;
    return urlParams || userAgent || hasTelegramSDK;
}
/**
 * Handle init data events
 */
export async function handleInitDataEvent(params, requestId, config) {
    try {
        config.log('Handling init data event', params);
        // Also log to console for visibility
        if (config.config.debug) {
            console.log(`[AppboxoWebSDK] InitData event received from miniapp`, params);
        }
        // Determine supported handlers based on SDK configuration
        const supportedHandlers = [
            'AppBoxoWebAppLogin',
            'AppBoxoWebAppGetInitData',
            'AppBoxoWebAppCustomEvent'
        ];
        // Add payment handler if onPaymentRequest callback is configured
        if (config.config.onPaymentRequest) {
            supportedHandlers.push('AppBoxoWebAppPay');
            config.log('Payment handler supported (onPaymentRequest configured)');
        }
        // Detect Telegram WebView environment
        const isTelegramWebView = detectTelegramWebView();
        // Use app_id and client_id from SDK config if params are missing/undefined
        // This ensures InitData always has valid values even if miniapp sends undefined
        const initData = {
            app_id: params.app_id || config.config.appId,
            client_id: params.client_id || config.config.clientId,
            payload: params.payload || '',
            data: {
                ...(params.data || {}),
                // Declare supported handlers so js-sdk can detect capabilities
                handlers: supportedHandlers,
                capabilities: supportedHandlers,
                // Include locale if configured
                ...(config.config.locale && { locale: config.config.locale }),
                // Include theme if configured
                ...(config.config.theme && { theme: config.config.theme }),
                // Include Telegram WebView detection result
                isTelegramWebView: isTelegramWebView
            },
            sandbox_mode: config.config.sandboxMode
        };
        // Log locale information for debugging
        if (config.config.locale) {
            config.log('Locale included in InitData', {
                locale: config.config.locale,
                initData: {
                    ...initData,
                    data: {
                        ...initData.data,
                        locale: config.config.locale
                    }
                }
            });
            // Also log to console for visibility
            if (config.config.debug) {
                console.log(`[AppboxoWebSDK] Locale "${config.config.locale}" included in InitData response to miniapp`);
            }
        }
        else {
            config.log('No locale configured, InitData will not include locale');
            if (config.config.debug) {
                console.log(`[AppboxoWebSDK] No locale configured - miniapp will not receive locale`);
            }
        }
        // Log theme information for debugging
        if (config.config.theme) {
            config.log('Theme included in InitData', {
                theme: config.config.theme,
                initData: {
                    ...initData,
                    data: {
                        ...initData.data,
                        theme: config.config.theme
                    }
                }
            });
            // Also log to console for visibility
            if (config.config.debug) {
                console.log(`[AppboxoWebSDK] Theme "${config.config.theme}" included in InitData response to miniapp`);
            }
        }
        else if (config.config.debug) {
            console.log(`[AppboxoWebSDK] No theme configured - miniapp will not receive theme`);
        }
        // Log Telegram WebView detection for debugging
        if (isTelegramWebView) {
            config.log('Telegram WebView detected, isTelegramWebView included in InitData', {
                isTelegramWebView: true
            });
            if (config.config.debug) {
                console.log(`[AppboxoWebSDK] Telegram WebView detected - isTelegramWebView: true included in InitData response to miniapp`);
            }
        }
        else if (config.config.debug) {
            console.log(`[AppboxoWebSDK] Not in Telegram WebView - isTelegramWebView: false included in InitData response to miniapp`);
        }
        const response = createHostResponse(EVENT_TYPES.INIT_DATA, initData, requestId);
        config.sendResponseToMiniapp(response);
        config.log('Init data sent to miniapp', { initData, supportedHandlers });
        // Also log to console for visibility
        if (config.config.debug) {
            console.log(`[AppboxoWebSDK] InitData response sent to miniapp`, {
                locale: config.config.locale || 'not set',
                theme: config.config.theme || 'not set',
                supportedHandlers,
                hasLocale: !!config.config.locale,
                hasTheme: !!config.config.theme
            });
        }
    }
    catch (error) {
        config.log('Init data failed', error);
        config.sendErrorResponse('AppBoxoWebAppGetInitData', error, requestId);
    }
}
//# sourceMappingURL=initDataHandler.js.map