/**
 * Custom Event Handler
 * Handles custom events from miniapp
 */
import { EVENT_TYPES } from '../constants';
import { createHostResponse } from '../utils/messageHelpers';
/**
 * Handle custom events
 */
export async function handleCustomEvent(params, requestId, config) {
    try {
        const { type, payload } = params;
        const handler = config.eventHandlers.get(type);
        if (!handler) {
            throw new Error(`No handler registered for custom event: ${type}`);
        }
        const result = await handler(type, payload);
        const response = createHostResponse(EVENT_TYPES.CUSTOM, result, requestId);
        config.sendResponseToMiniapp(response);
        config.log('Custom event handled', { type, result });
    }
    catch (error) {
        config.log('Custom event failed', error);
        config.sendErrorResponse('AppBoxoWebAppCustomEvent', error, requestId);
    }
}
//# sourceMappingURL=customEventHandler.js.map